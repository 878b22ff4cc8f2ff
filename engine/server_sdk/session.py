"""``AvatarSession``: one Motion Server session held by a backend (init → start → send_audio / interrupt → close).

With the WebSocket egress, every ``SERVER_RESPONSE_ANIMATION`` message comes back to
``config.transport_frames(data, is_last)`` as received, for the backend to relay to its client
(Backend Mode). With the WebRTC egress the server pushes the audio and the motion to peers that
join with :attr:`AvatarSession.join_url` and :attr:`~AvatarSession.join_token` (the RTC path);
nothing comes back here but errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from urllib.parse import urlencode, urlsplit, urlunsplit

import aiohttp
import websockets
from websockets.asyncio.client import ClientConnection, connect

from ..wire import message_pb2 as pb
from . import classify, tokens
from .config import AudioFormat, Egress, SessionConfig
from .errors import AvatarSDKError, AvatarSDKErrorCode as C

log = logging.getLogger("facecast.server_sdk")

HANDSHAKE_TIMEOUT_S = 10.0
CHUNK_BYTES = 128 * 1024  # under the server's per-message limit; one round may span many chunks


class SessionStateError(AvatarSDKError, ValueError):
    """A call made in the wrong state (not started, already closed, nothing to interrupt)."""

    def __init__(self, message: str) -> None:
        super().__init__(C.invalidRequest, message, phase="state")


def generate_log_id() -> str:
    """A fresh request id."""
    return uuid.uuid4().hex


class AvatarSession:
    """Create with :func:`new_avatar_session`; not reusable after :meth:`close`."""

    def __init__(self, config: SessionConfig) -> None:
        self._config = config
        self._token: str | None = None
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task | None = None
        self._req_id: str | None = None
        self._last_req_id: str | None = None
        self._closed = False
        self.connection_id: str | None = None
        self.join_url: str | None = None
        self.join_token: str | None = None
        self.join_token_expires_at: int | None = None

    @property
    def config(self) -> SessionConfig:
        return self._config

    async def __aenter__(self) -> "AvatarSession":
        await self.init()
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # -- lifecycle --------------------------------------------------------------------------------

    async def init(self) -> None:
        """Exchange the API key for a session token (reused from the cache while it is fresh)."""
        cfg = self._config
        if not cfg.app_id:
            raise SessionStateError("app_id is missing")
        self._token = await tokens.session_token(cfg.api_key, cfg.app_id, cfg.console_endpoint_url, cfg.expire_at)

    async def start(self) -> str:
        """Open the ingress WebSocket, configure the session and wait for the confirm; returns the connection id."""
        cfg = self._config
        if self._ws is not None or self._closed:
            raise SessionStateError("the session was already started")
        if not self._token:
            raise SessionStateError("call init() before start()")
        if not cfg.avatar_id:
            raise SessionStateError("avatar_id is missing")
        url, headers = self._ingress()
        try:
            self._ws = await connect(url, additional_headers=headers, open_timeout=HANDSHAKE_TIMEOUT_S,
                                     max_size=4 * 1024 * 1024, compression=None)
        except websockets.InvalidStatus as exc:
            status = exc.response.status_code
            raise AvatarSDKError(classify.console_code(status, None), f"the ingress refused the WebSocket (HTTP "
                                 f"{status})", phase="websocket_connect", http_status=status) from None
        except (OSError, asyncio.TimeoutError, TimeoutError, websockets.InvalidHandshake, websockets.InvalidURI) as exc:
            raise AvatarSDKError(C.connectionFailed, f"cannot connect to {cfg.ingress_endpoint_url}: {exc}",
                                 phase="websocket_connect") from None
        try:
            await self._ws.send(self._configure())
            confirm = await self._handshake()
        except BaseException:
            ws, self._ws = self._ws, None
            await ws.close()
            raise
        self.connection_id = confirm.connection_id
        if cfg.egress.joinable:
            if not confirm.join_url or not confirm.join_token:
                await self.close()
                raise AvatarSDKError(C.egressUnavailable, "the server confirmed the session without a WebRTC join "
                                     "URL and token; it does not support the WebRTC egress", phase="websocket_handshake")
            self.join_url, self.join_token = confirm.join_url, confirm.join_token
            self.join_token_expires_at = confirm.join_token_expires_at
        self._reader = asyncio.get_running_loop().create_task(self._read(), name="facecast-sdk-reader")
        return self.connection_id

    async def close(self) -> None:
        """Close the WebSocket and run ``on_close`` once; idempotent."""
        if self._closed:
            return
        self._closed = True
        ws, self._ws = self._ws, None
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()
        reader, self._reader = self._reader, None
        if reader is not None and reader is not asyncio.current_task():
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        _call(self._config.on_close)

    # -- audio ------------------------------------------------------------------------------------

    async def send_audio(self, audio: bytes, end: bool = False) -> str:
        """Send one chunk of the current request (PCM16 mono LE, or Ogg Opus bytes); returns its request id.

        Chunks share a request id until one is sent with ``end=True``; the next chunk starts a new
        request, which supersedes the previous one on the server.
        """
        ws = self._require_started("send_audio")
        data = bytes(audio)
        if self._config.audio_format == AudioFormat.PCM_S16LE and len(data) % 2:
            raise AvatarSDKError(C.invalidRequest, f"PCM16 audio must be whole samples; got {len(data)} bytes",
                                 phase="websocket_send")
        if self._req_id is None:
            self._req_id = self._last_req_id = generate_log_id()
        req_id = self._req_id
        for at in range(0, max(len(data), 1), CHUNK_BYTES):
            last = at + CHUNK_BYTES >= len(data)
            msg = pb.Message(type=pb.MESSAGE_TYPE_CLIENT_AUDIO_INPUT)
            msg.client_audio_input.req_id = req_id
            msg.client_audio_input.audio = data[at:at + CHUNK_BYTES]
            msg.client_audio_input.end = bool(end and last)
            await self._send(ws, msg, req_id)
        if end:
            self._req_id = None
        return req_id

    async def interrupt(self) -> str:
        """Stop the most recent request (even one already ended that is still playing); returns its id."""
        ws = self._require_started("interrupt")
        req_id = self._last_req_id
        if not req_id:
            raise SessionStateError("interrupt: no request to interrupt")
        msg = pb.Message(type=pb.MESSAGE_TYPE_CLIENT_INTERRUPT)
        msg.client_interrupt.req_id = req_id
        await self._send(ws, msg, req_id)
        self._req_id = None
        return req_id

    async def new_join_token(self) -> str:
        """A fresh join token for this session's WebRTC egress (for a client that re-joins); also kept in
        :attr:`join_token`."""
        self._require_started("new_join_token")
        if self.join_url is None:
            raise SessionStateError("new_join_token: the session has no WebRTC egress (egress='webrtc')")
        parts = urlsplit(self.join_url)
        url = urlunsplit((parts.scheme, parts.netloc, parts.path.rsplit("/", 1)[0] + "/join-tokens", "", ""))
        headers = {"X-App-ID": self._config.app_id, "X-Session-Key": self._token or ""}
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=tokens.TIMEOUT_S)) as http:
                async with http.post(url, headers=headers) as response:
                    status, text = response.status, await response.text()
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            raise AvatarSDKError(C.connectionFailed, f"cannot reach {url}: {exc}", phase="join_token") from None
        if status != 200:
            raise AvatarSDKError(classify.console_code(status, None), f"the server refused a new join token (HTTP "
                                 f"{status}): {text[:200]}", phase="join_token", http_status=status, raw_body=text)
        body = json.loads(text)
        self.join_token, self.join_token_expires_at = body["joinToken"], int(body["expireAt"])
        return self.join_token

    # -- internals --------------------------------------------------------------------------------

    def _require_started(self, what: str) -> ClientConnection:
        if self._ws is None:
            raise SessionStateError(f"{what}: the session is not started (call init() and start()) or was closed")
        return self._ws

    def _ingress(self) -> tuple[str, dict[str, str]]:
        cfg = self._config
        parts = urlsplit(cfg.ingress_endpoint_url.rstrip("/") + "/websocket")
        scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
        if scheme not in ("ws", "wss"):
            raise AvatarSDKError(C.invalidRequest, f"ingress_endpoint_url must be ws://, wss://, http:// or "
                                 f"https://, not {cfg.ingress_endpoint_url!r}", phase="config")
        query = {"id": cfg.avatar_id}
        headers = {}
        if cfg.use_query_auth:
            query.update(appId=cfg.app_id, sessionKey=self._token)
        else:
            headers = {"X-App-ID": cfg.app_id, "X-Session-Key": self._token}
        return urlunsplit((scheme, parts.netloc, parts.path, urlencode(query), "")), headers

    def _configure(self) -> bytes:
        cfg = self._config
        msg = pb.Message(type=pb.MESSAGE_TYPE_CLIENT_CONFIGURE_SESSION)
        body = msg.client_configure_session
        body.sample_rate = cfg.sample_rate
        body.bitrate = cfg.bitrate
        body.audio_format = pb.AUDIO_FORMAT_OGG_OPUS if cfg.audio_format == AudioFormat.OGG_OPUS \
            else pb.AUDIO_FORMAT_PCM_S16LE
        body.transport_compression = pb.TRANSPORT_COMPRESSION_NONE
        body.extra_params.update(cfg.extra_params)
        if cfg.egress.joinable:
            body.egress_type = pb.EGRESS_TYPE_WEBRTC if cfg.egress == Egress.webrtc else pb.EGRESS_TYPE_WEBRTC_VIDEO
            limits = cfg.webrtc_egress
            body.webrtc_egress.SetInParent()
            if limits is not None:
                body.webrtc_egress.max_joins = limits.max_joins
                body.webrtc_egress.max_peers = limits.max_peers
                body.webrtc_egress.join_timeout_ms = int(limits.join_timeout_s * 1000)
                body.webrtc_egress.join_token_ttl_s = int(limits.join_token_ttl_s)
        return msg.SerializeToString()

    async def _handshake(self) -> pb.ServerConfirmSession:
        try:
            raw = await asyncio.wait_for(self._ws.recv(), HANDSHAKE_TIMEOUT_S)
        except (asyncio.TimeoutError, TimeoutError):
            raise AvatarSDKError(C.connectionFailed, f"the server did not confirm the session within "
                                 f"{HANDSHAKE_TIMEOUT_S:g} s", phase="websocket_handshake") from None
        except websockets.ConnectionClosed as exc:
            raise _closed_error(exc, "websocket_handshake") from None
        msg = _parse(raw, "websocket_handshake")
        if msg.type == pb.MESSAGE_TYPE_SERVER_ERROR:
            raise _server_error(msg.server_error, "websocket_handshake")
        if msg.type != pb.MESSAGE_TYPE_SERVER_CONFIRM_SESSION or not msg.server_confirm_session.connection_id:
            raise AvatarSDKError(C.protocolError, f"expected SERVER_CONFIRM_SESSION, got message type {msg.type}",
                                 phase="websocket_handshake")
        return msg.server_confirm_session

    async def _send(self, ws: ClientConnection, msg: pb.Message, req_id: str) -> None:
        try:
            await ws.send(msg.SerializeToString())
        except websockets.ConnectionClosed as exc:
            raise _closed_error(exc, "websocket_send", req_id) from None

    async def _read(self) -> None:
        ws = self._ws
        try:
            async for raw in ws:
                if isinstance(raw, str):
                    continue
                self._on_message(raw)
        except websockets.ConnectionClosedOK:
            pass
        except websockets.ConnectionClosed as exc:
            _call(self._config.on_error, _closed_error(exc, "websocket_runtime"))
        finally:
            if not self._closed:
                await self.close()

    def _on_message(self, raw: bytes) -> None:
        try:
            msg = _parse(raw, "websocket_runtime")
        except AvatarSDKError as error:
            _call(self._config.on_error, error)
            return
        if msg.type == pb.MESSAGE_TYPE_SERVER_RESPONSE_ANIMATION:
            _call(self._config.transport_frames, raw, bool(msg.server_response_animation.end))
        elif msg.type == pb.MESSAGE_TYPE_SERVER_ERROR:
            _call(self._config.on_error, _server_error(msg.server_error, "websocket_runtime"))


def _parse(raw, phase: str) -> pb.Message:
    if not isinstance(raw, (bytes, bytearray)):
        raise AvatarSDKError(C.protocolError, "expected a binary protobuf message, got text", phase=phase)
    msg = pb.Message()
    try:
        msg.ParseFromString(bytes(raw))
    except Exception as exc:
        raise AvatarSDKError(C.protocolError, f"a message from the server does not parse: {exc}", phase=phase) from None
    return msg


def _server_error(err: pb.ServerError, phase: str) -> AvatarSDKError:
    return AvatarSDKError(classify.server_code(err.code, err.message), f"Motion Server error {err.code}: "
                          f"{err.message}", phase=phase, server_code=str(err.code), server_detail=err.message or None,
                          connection_id=err.connection_id or None, req_id=err.req_id or None)


def _closed_error(exc: websockets.ConnectionClosed, phase: str, req_id: str | None = None) -> AvatarSDKError:
    frame = exc.rcvd or exc.sent
    code, reason = (frame.code, frame.reason) if frame is not None else (None, "")
    if code == 4010:
        return AvatarSDKError(C.sessionTokenExpired, "the session token expired during the session", phase=phase,
                              close_code=code, close_reason=reason, req_id=req_id)
    return AvatarSDKError(C.connectionClosed, f"the WebSocket closed unexpectedly (code {code}"
                          f"{': ' + reason if reason else ''})", phase=phase, close_code=code, close_reason=reason,
                          req_id=req_id)


def _call(callback, *args) -> None:
    try:
        callback(*args)
    except Exception:
        log.exception("a session callback raised")
