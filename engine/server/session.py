"""One admitted ingress WebSocket: configure → confirm → audio rounds → animation (protocol.md).

The session reads messages one at a time and answers inline: a keyframe leaves as soon as the
40 ms of audio it covers has been read. When the peer stops reading, ``send_bytes`` waits on the
socket, the session stops reading too, and TCP flow control pushes back on the client — so no
queue in here can grow.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid

import numpy as np
from aiohttp import WSMsgType, web

from ..config import SAMPLE_RATES
from ..errors import AvatarError
from ..motion import layout
from ..wire import encode_animation
from ..wire.decode_kernel import MAX_ID_BYTES
from ..wire import message_pb2 as pb
from ..wire.messages import confirm_session, parse_message, server_error
from .codes import CloseCode, ServerErrorCode as E
from .limits import Limits
from .opus import OggOpusDecoder, OggOpusError

log = logging.getLogger("facecast.server.session")


class SessionClosed(Exception):
    """The session ended (the reason was already sent to the peer)."""


class Round:
    """One req_id's progress: frames sent, samples received, and whether output has stopped."""

    __slots__ = ("req_id", "frames_sent", "samples", "ended", "stopped", "opus")

    def __init__(self, req_id: str, opus: OggOpusDecoder | None = None) -> None:
        self.req_id = req_id
        self.opus = opus  # the round's Ogg Opus stream decoder, for OGG_OPUS sessions
        self.frames_sent = 0
        self.samples = 0
        self.ended = False  # the client sent end=true
        self.stopped = False  # interrupted or over a limit: nothing more is sent for it


class IngressSession:
    """Runs the message exchange for one admitted client until it closes or breaks a rule."""

    def __init__(self, ws: web.WebSocketResponse, *, app_id: str, avatar_id: str, expression_count: int,
                 token_expires_at: float, limits: Limits, generator_factory, seed: int) -> None:
        self.ws = ws
        self.app_id = app_id
        self.avatar_id = avatar_id
        self.expression_count = expression_count
        self.limits = limits
        self.connection_id = f"conn_{uuid.uuid4().hex}"
        self._generator_factory = generator_factory
        self._seed = seed
        self._generator = None
        self._sample_rate = 0
        self._opus = False
        self._round: Round | None = None
        loop = asyncio.get_running_loop()
        self._started = loop.time()
        self._token_deadline = self._started + (token_expires_at - time.time())
        self._session_deadline = self._started + limits.max_session_s

    # -- outgoing -------------------------------------------------------------------------------

    async def _error(self, code: E, message: str, req_id: str = "") -> None:
        if not self.ws.closed:
            await self.ws.send_bytes(server_error(int(code), message, connection_id=self.connection_id, req_id=req_id))

    async def fail(self, code: E, message: str, close_code: CloseCode, req_id: str = "") -> None:
        """Send ``SERVER_ERROR`` then close the socket; the session cannot continue."""
        log.info("session %s (app %s) closed: %s (%d)", self.connection_id, self.app_id, message, int(code))
        try:
            await self._error(code, message, req_id)
        except ConnectionError:
            pass
        await self.ws.close(code=int(close_code), message=message[:120].encode("utf-8"))
        raise SessionClosed(message)

    # -- main loop ------------------------------------------------------------------------------

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        configure_deadline = self._started + self.limits.configure_timeout_s
        try:
            while not self.ws.closed:
                now = loop.time()
                deadline, reason = self._next_deadline(now, configure_deadline)
                if deadline <= now:
                    await self._expire(reason)
                try:
                    msg = await self.ws.receive(timeout=deadline - now)
                except asyncio.TimeoutError:
                    await self._expire(reason)
                if msg.type == WSMsgType.BINARY:
                    await self._on_binary(msg.data)
                elif msg.type == WSMsgType.TEXT:
                    await self._refuse(E.INVALID_ARGUMENT, "text frames are not part of the protocol; "
                                       "send each protobuf Message as one binary frame")
                elif msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                    break
        except SessionClosed:
            pass
        except ConnectionError:
            log.info("session %s: the peer went away", self.connection_id)
        finally:
            if self._generator is not None:
                self._generator.reset()

    def _next_deadline(self, now: float, configure_deadline: float) -> tuple[float, str]:
        candidates = [(self._token_deadline, "token"), (self._session_deadline, "session"),
                      (now + self.limits.idle_timeout_s, "idle")]
        if self._generator is None:
            candidates.append((configure_deadline, "configure"))
        return min(candidates)

    async def _expire(self, reason: str) -> None:
        if reason == "token":
            await self.fail(E.TOKEN_EXPIRED, "the session token expired during the session; "
                            "request a new token and reconnect", CloseCode.TOKEN_EXPIRED)
        if reason == "session":
            await self.fail(E.SESSION_DURATION_EXCEEDED,
                            f"session duration limit of {self.limits.max_session_s:g} s reached",
                            CloseCode.POLICY_VIOLATION)
        if reason == "configure":
            await self.fail(E.INVALID_ARGUMENT, f"no CLIENT_CONFIGURE_SESSION within "
                            f"{self.limits.configure_timeout_s:g} s of connecting", CloseCode.POLICY_VIOLATION)
        await self.fail(E.IDLE_TIMEOUT, f"no message for {self.limits.idle_timeout_s:g} s; closing the idle session",
                        CloseCode.NORMAL)

    async def _refuse(self, code: E, message: str, req_id: str = "") -> None:
        """A bad message: before configure the session cannot continue, after it we skip the message."""
        if self._generator is None:
            await self.fail(code, message, CloseCode.POLICY_VIOLATION, req_id)
        await self._error(code, message, req_id)

    # -- incoming -------------------------------------------------------------------------------

    async def _on_binary(self, data: bytes) -> None:
        if len(data) > self.limits.max_message_bytes:
            await self._refuse(E.MESSAGE_TOO_LARGE, f"message of {len(data)} bytes is over the limit of "
                               f"{self.limits.max_message_bytes} bytes; send audio in smaller chunks")
            return
        try:
            msg = parse_message(data)
        except AvatarError as exc:
            await self._refuse(E.INVALID_ARGUMENT, exc.message)
            return
        if msg.type == pb.MESSAGE_TYPE_CLIENT_CONFIGURE_SESSION:
            await self._on_configure(msg.client_configure_session)
        elif self._generator is None:
            await self._refuse(E.INVALID_ARGUMENT, "the first message must be CLIENT_CONFIGURE_SESSION")
        elif msg.type == pb.MESSAGE_TYPE_CLIENT_AUDIO_INPUT:
            await self._on_audio(msg.client_audio_input)
        elif msg.type == pb.MESSAGE_TYPE_CLIENT_INTERRUPT:
            self._on_interrupt(msg.client_interrupt.req_id)
        else:
            await self._refuse(E.INVALID_ARGUMENT, f"{pb.MessageType.Name(msg.type)} is a server message; "
                               "clients send configure, audio input and interrupt only")

    async def _on_configure(self, cfg: pb.ClientConfigureSession) -> None:
        if self._generator is not None:
            await self._refuse(E.INVALID_ARGUMENT, "the session is already configured")
            return
        if cfg.sample_rate not in SAMPLE_RATES:
            await self.fail(E.SAMPLE_RATE_UNSUPPORTED, f"sample rate {cfg.sample_rate} Hz is not supported; use one "
                            f"of {', '.join(map(str, SAMPLE_RATES))}", CloseCode.POLICY_VIOLATION)
        if cfg.audio_format not in (pb.AUDIO_FORMAT_PCM_S16LE, pb.AUDIO_FORMAT_OGG_OPUS):
            await self.fail(E.AUDIO_FORMAT_UNSUPPORTED, "audio_format must be PCM_S16LE (mono) or OGG_OPUS",
                            CloseCode.POLICY_VIOLATION)
        if cfg.egress_type != pb.EGRESS_TYPE_UNSPECIFIED:
            await self.fail(E.AUDIO_FORMAT_UNSUPPORTED, "this server answers over the WebSocket only "
                            "(egress_type UNSPECIFIED)", CloseCode.POLICY_VIOLATION)
        try:
            self._generator = self._generator_factory(cfg.sample_rate, self.expression_count, self._seed)
        except Exception:
            log.exception("motion generator failed to start")
            await self.fail(E.UNAVAILABLE, "the motion generator failed to start", CloseCode.INTERNAL_ERROR)
        self._sample_rate = cfg.sample_rate
        self._opus = cfg.audio_format == pb.AUDIO_FORMAT_OGG_OPUS
        await self.ws.send_bytes(confirm_session(self.connection_id))

    async def _on_audio(self, audio: pb.ClientAudioInput) -> None:
        req_id = audio.req_id
        if not req_id or len(req_id.encode("utf-8")) > MAX_ID_BYTES:
            await self._refuse(E.INVALID_ARGUMENT, f"CLIENT_AUDIO_INPUT needs a req_id of 1..{MAX_ID_BYTES} bytes")
            return
        if len(audio.audio) % 2 and not self._opus:
            await self._refuse(E.INVALID_ARGUMENT, f"audio chunk of {len(audio.audio)} bytes is not whole PCM16 "
                               "samples (an even byte count)", req_id)
            return
        rnd = self._round
        if rnd is None or rnd.req_id != req_id:
            self._generator.reset()  # a new req_id supersedes the previous round
            rnd = self._round = Round(req_id, OggOpusDecoder(self._sample_rate) if self._opus else None)
        elif rnd.stopped:
            return  # interrupted or over its limit: the client was told; the rest is discarded by design
        elif rnd.ended:
            await self._refuse(E.INVALID_ARGUMENT, f"round {req_id!r} already ended; use a new req_id", req_id)
            return
        pcm = await self._decode(rnd, audio)
        if pcm is None:
            return
        rnd.samples += pcm.size
        if rnd.samples > self.limits.max_round_audio_s * self._sample_rate:
            rnd.stopped = True
            self._generator.reset()
            await self._error(E.ROUND_AUDIO_LIMIT, f"round {req_id!r} is over the limit of "
                              f"{self.limits.max_round_audio_s:g} s of audio; it was stopped", req_id)
            return
        try:
            keyframes = self._generator.feed(pcm)
            if audio.end:
                rnd.ended = True
                tail = self._generator.finish()
                keyframes = np.concatenate([keyframes, tail]) if len(tail) else keyframes
            if keyframes.shape[1:] != (layout.motion_dim(self.expression_count),):
                raise ValueError(f"generator returned keyframes of shape {keyframes.shape}")
            data = encode_animation(self.connection_id, req_id, keyframes, rnd.frames_sent, audio.end) \
                if len(keyframes) or audio.end else None
        except Exception:
            log.exception("motion generator failed")
            await self.fail(E.UNAVAILABLE, "motion generation failed", CloseCode.INTERNAL_ERROR, req_id)
        if data is not None:
            rnd.frames_sent += len(keyframes)
            await self.ws.send_bytes(data)

    async def _decode(self, rnd: Round, audio: pb.ClientAudioInput) -> np.ndarray | None:
        """The chunk's PCM16 samples; None (round stopped, client told) for a broken Opus stream."""
        if rnd.opus is None:
            return np.frombuffer(audio.audio, dtype="<i2")
        try:
            pcm = rnd.opus.feed(audio.audio)
            return np.concatenate([pcm, rnd.opus.finish()]) if audio.end else pcm
        except OggOpusError as exc:
            rnd.stopped = True
            self._generator.reset()
            await self._error(E.INVALID_ARGUMENT, f"round {rnd.req_id!r}: {exc}", rnd.req_id)
            return None

    def _on_interrupt(self, req_id: str) -> None:
        rnd = self._round
        if rnd is not None and rnd.req_id == req_id and not rnd.stopped:
            rnd.stopped = True
            self._generator.reset()
        # An interrupt for any other round is stale (the client has moved on): nothing to stop.
