"""The ``direct`` transport: the app's process talks to the Motion Server over one WebSocket."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import random
from urllib.parse import urlencode

import websockets
from websockets.asyncio.client import ClientConnection, connect

from engine.kit import (AvatarError, ConnectionState, ErrorCode, MessageType, TransportContext, audio_input,
                        configure_session, interrupt, parse_message)

from .mapping import FATAL, close_error, is_retryable_close, is_token_expiry, server_error
from .replay import RoundReplay

log = logging.getLogger("facecast.transport.direct")


class DirectTransport:
    """Implements ``engine.contracts.Transport`` with ``websockets``.

    ``connect`` tries until ``connect_timeout`` (15 s, the seed's fallback deadline) with backoff,
    failing fast on refusals a retry cannot fix. After that, a dropped connection is retried
    ``max_reconnects`` times with exponential backoff; the round in flight is replayed so no
    motion is lost. Outgoing messages wait in a bounded queue (``send_audio`` waits when full).
    """

    def __init__(self, context: TransportContext, *, connect_timeout: float = 15.0, confirm_timeout: float = 10.0,
                 max_reconnects: int = 5, backoff_s: tuple[float, float] = (0.2, 3.0), queue_size: int = 256,
                 replay_seconds: float = 60.0, chunk_seconds: float = 0.5) -> None:
        self.ctx = context
        self.chunk_bytes = max(2, int(chunk_seconds * context.audio_format.sample_rate) * 2)
        self.connect_timeout = connect_timeout
        self.confirm_timeout = confirm_timeout
        self.max_reconnects = max_reconnects
        self.backoff_s = backoff_s
        self.connection_id: str | None = None
        self._queue: asyncio.Queue[tuple[str, str, bytes]] = asyncio.Queue(maxsize=queue_size)
        self._replay = RoundReplay(int(replay_seconds * context.audio_format.bytes_per_second))
        self._ws: ClientConnection | None = None
        self._task: asyncio.Task | None = None
        self._state = ConnectionState.disconnected
        self._connecting = False
        self._closed = False
        self._interrupted: collections.deque[str] = collections.deque(maxlen=8)
        self._inflight: tuple[str, str, bytes] | None = None
        self._fatal: AvatarError | None = None
        self.dropped_messages = 0  # audio dropped because the queue was full while reconnecting

    @property
    def state(self) -> ConnectionState:
        return self._state

    def _set_state(self, state: ConnectionState) -> None:
        if state != self._state:
            self._state = state
            self.ctx.listener.on_connection_state(state)

    # -- contract -------------------------------------------------------------------------------

    async def connect(self) -> None:
        if self._connecting or self._state == ConnectionState.connected:
            raise AvatarError(ErrorCode.connectionInProgress, "the direct transport is already connecting or connected")
        if self._closed:
            raise AvatarError(ErrorCode.websocketError, "this transport was closed; make a new one")
        if not self.ctx.session_token:
            raise AvatarError(ErrorCode.sessionTokenInvalid,
                              "direct mode needs a session token: call AvatarSDK.set_session_token(token) first")
        self._connecting = True
        self._set_state(ConnectionState.connecting)
        try:
            self._ws = await asyncio.wait_for(self._open_with_retries(), self.connect_timeout)
        except (asyncio.TimeoutError, TimeoutError):
            self._set_state(ConnectionState.failed)
            raise AvatarError(ErrorCode.websocketError, f"could not reach the Motion Server at "
                              f"{self.ctx.endpoints.ingress} within {self.connect_timeout:g} s") from None
        except AvatarError:
            self._set_state(ConnectionState.failed)
            raise
        finally:
            self._connecting = False
        self._set_state(ConnectionState.connected)
        self._task = asyncio.create_task(self._run(), name="facecast-direct-transport")

    async def send_audio(self, req_id: str, pcm16: bytes, end: bool) -> None:
        if self._closed or self._state == ConnectionState.failed:
            return  # the controller heard about the failure and plays audio only
        # Long buffers go out in chunks: under the server's message limit, and the server can
        # answer the first chunk while the rest is still on the wire.
        step = self.chunk_bytes
        for at in range(0, max(len(pcm16), 1), step):
            last = at + step >= len(pcm16)
            await self._enqueue(("audio", req_id, audio_input(req_id, pcm16[at:at + step], end and last)))

    async def interrupt(self, req_id: str) -> None:
        self._interrupted.append(req_id)  # from now on nothing of this round reaches the listener
        self._replay.drop(req_id)
        if not self._closed and self._state != ConnectionState.failed:
            await self._enqueue(("interrupt", req_id, interrupt(req_id)))

    async def _enqueue(self, item: tuple[str, str, bytes]) -> None:
        if self._state == ConnectionState.connected:
            await self._queue.put(item)  # the writer is draining: wait for room (backpressure)
            return
        if self._queue.full():  # reconnecting: never block the app; keep the newest audio
            self._queue.get_nowait()
            self.dropped_messages += 1
        self._queue.put_nowait(item)

    def _release_waiters(self) -> None:
        """After a failure nothing drains the queue: empty it so a caller waiting for room returns."""
        while not self._queue.empty():
            self._queue.get_nowait()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
            self._ws = None
        self._set_state(ConnectionState.disconnected)

    # -- connection -----------------------------------------------------------------------------

    def _url(self) -> str:
        return f"{self.ctx.endpoints.ingress}/websocket?{urlencode({'id': self.ctx.avatar_id})}"

    async def _open_with_retries(self, attempts: int | None = None) -> ClientConnection:
        """Open and confirm a session, retrying transient failures (all of them if ``attempts`` is None)."""
        attempt = 0
        while True:
            try:
                return await self._open()
            except AvatarError as exc:
                attempt += 1
                if exc.code in FATAL or (attempts is not None and attempt >= attempts):
                    raise
                delay = min(self.backoff_s[1], self.backoff_s[0] * 2 ** (attempt - 1)) * random.uniform(0.8, 1.2)
                log.info("Motion Server not ready (%s); retrying in %.2f s", exc.message, delay)
                await asyncio.sleep(delay)

    async def _open(self) -> ClientConnection:
        headers = {"X-App-ID": self.ctx.app_id, "X-Session-Key": self.ctx.session_token or ""}
        try:
            ws = await connect(self._url(), additional_headers=headers, open_timeout=self.confirm_timeout,
                               max_size=4 * 1024 * 1024, max_queue=64, compression=None)
        except (OSError, asyncio.TimeoutError, TimeoutError, websockets.InvalidHandshake, websockets.InvalidURI) as exc:
            raise AvatarError(ErrorCode.websocketError, f"cannot open {self._url()}: {exc}") from None
        try:
            with contextlib.suppress(websockets.ConnectionClosed):
                # A server that refuses the credentials answers and closes before reading this;
                # its SERVER_ERROR is still waiting to be read below.
                await ws.send(configure_session(self.ctx.audio_format.sample_rate))
            reply = parse_message(await asyncio.wait_for(ws.recv(), self.confirm_timeout))
        except (asyncio.TimeoutError, TimeoutError):
            await ws.close()
            raise AvatarError(ErrorCode.sessionTimeout,
                              f"the Motion Server did not confirm the session within {self.confirm_timeout:g} s") from None
        except websockets.ConnectionClosed as exc:
            raise close_error(exc.rcvd.code if exc.rcvd else None, exc.rcvd.reason if exc.rcvd else "") from None
        except AvatarError:
            await ws.close()
            raise
        except asyncio.CancelledError:
            ws.transport.abort()  # cancelled mid-handshake (the connect deadline): drop the socket now
            raise
        if reply.type == MessageType.MESSAGE_TYPE_SERVER_ERROR:
            await ws.close()
            raise server_error(reply.server_error.code, reply.server_error.message)
        if reply.type != MessageType.MESSAGE_TYPE_SERVER_CONFIRM_SESSION or not reply.server_confirm_session.connection_id:
            await ws.close()
            raise AvatarError(ErrorCode.serverError, "the Motion Server answered configure without a confirm")
        self.connection_id = reply.server_confirm_session.connection_id
        return ws

    # -- running session ------------------------------------------------------------------------

    async def _run(self) -> None:
        """Pump both directions; on a drop, reconnect (bounded) and replay the round in flight."""
        try:
            while await self._pump_until_closed():
                pass
        finally:
            self._release_waiters()

    async def _pump_until_closed(self) -> bool:
        """Run one connection; True when a new one is up and the pumping should go on."""
        reader = asyncio.create_task(self._read(self._ws))
        writer = asyncio.create_task(self._write(self._ws))
        try:
            await reader  # the writer only fails when the socket closes, which ends the reader too
        finally:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
        code, reason = reader.result()
        if self._fatal is not None or not is_retryable_close(code):
            if self._fatal is None:
                self.ctx.listener.on_error(close_error(code, reason))
            gave_up = self._fatal is not None or is_token_expiry(code)
            self._set_state(ConnectionState.failed if gave_up else ConnectionState.disconnected)
            return False
        self.ctx.listener.on_error(close_error(code, reason))
        self._set_state(ConnectionState.connecting)
        try:
            self._ws = await self._open_with_retries(self.max_reconnects)
        except AvatarError as exc:
            self.ctx.listener.on_error(exc)
            self._set_state(ConnectionState.failed)
            return False
        self._set_state(ConnectionState.connected)
        log.info("reconnected to the Motion Server; replaying %d chunks of the round in flight",
                 len(self._replay.messages()))
        for message in self._replay.messages():
            await self._ws.send(message)  # a drop here ends the next pump's reader at once
        return True

    async def _read(self, ws: ClientConnection) -> tuple[int | None, str]:
        """Deliver messages until the socket closes; returns the close code (None: no close frame) and reason."""
        try:
            async for data in ws:
                if isinstance(data, str):
                    continue  # the protocol is binary-only; a text frame is noise
                self._on_message(data)
        except websockets.ConnectionClosed:
            pass
        rcvd = ws.protocol.close_rcvd
        return (rcvd.code, rcvd.reason) if rcvd is not None else (None, "")

    def _on_message(self, data: bytes) -> None:
        try:
            msg = parse_message(data)
        except AvatarError as exc:
            self.ctx.listener.on_error(exc)
            return
        if msg.type == MessageType.MESSAGE_TYPE_SERVER_RESPONSE_ANIMATION:
            body = msg.server_response_animation
            if body.req_id in self._interrupted:
                return
            if body.end:
                self._replay.finished(body.req_id)
            self.ctx.listener.on_animation(data)
        elif msg.type == MessageType.MESSAGE_TYPE_SERVER_ERROR:
            error = server_error(msg.server_error.code, msg.server_error.message)
            if error.code in FATAL:
                self._fatal = error
            self.ctx.listener.on_error(error)

    async def _write(self, ws: ClientConnection) -> None:
        """Send queued messages in order; a message whose send did not finish is retried on the next socket."""
        while True:
            if self._inflight is None:
                self._inflight = await self._queue.get()
            kind, req_id, message = self._inflight
            try:
                await ws.send(message)
            except websockets.ConnectionClosed:
                return
            self._inflight = None
            if kind == "audio":
                self._replay.sent(req_id, message)
