"""One admitted ingress WebSocket: configure → confirm → audio rounds → animation (protocol.md).

The session reads messages one at a time and answers inline: a keyframe leaves as soon as the
40 ms of audio it covers has been read. When the peer stops reading, a send waits on the socket,
the session stops reading too, and TCP flow control pushes back on the client — so no queue in
here can grow. Every send is bounded by ``Limits.send_timeout_s`` and by the session's hard
deadlines (token expiry, session length): a peer that stops reading is cut off, never kept.
A send the transport takes without pausing cannot wait, so it needs no timer; the session's
other deadlines (configure, idle, token, session length) share one timer per session that is
re-armed only when it fires, not per message (two timer handles per audio chunk, created, pushed
on the heap and cancelled, were several per cent of the server's CPU).

One message is processed in steps of at most :data:`STEP_SAMPLES` samples (Opus is decoded a
bounded step at a time, see ``opus.py``), the round's audio limit is checked before each step is
used, and the session yields to the event loop between steps, so no message — however much audio
it claims to carry — holds the loop for more than a few milliseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import time
import uuid
from typing import Callable

import numpy as np
from aiohttp import WSMsgType, web

from ..config import SAMPLE_RATES
from ..errors import AvatarError
from ..motion import layout
from ..wire import encode_animation
from ..wire.decode_kernel import MAX_ID_BYTES
from ..wire import message_pb2 as pb
from ..wire.messages import confirm_session, parse_message, server_error
from .codes import CloseCode, ServerErrorCode
from .limits import Limits
from .observe import NullObserver
from .opus import OggOpusDecoder, OggOpusError
from .rtc import attach as rtc_attach
from .threads import in_own_thread

log = logging.getLogger("facecast.server.session")

STEP_SAMPLES = 8192  # PCM fed to the generator per step (0.17-1 s of audio): a few ms with the built-ins


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
                 token_expires_at: float, limits: Limits, generator_factory, seed: int,
                 abort: Callable[[], None] | None = None, observer=None, rtc=None, video=None,
                 transport: asyncio.Transport | None = None) -> None:
        self.ws = ws
        # The socket under ``ws``: while its write buffer stays under the low-water mark a send cannot wait.
        self._transport = transport
        self._low_water = transport.get_write_buffer_limits()[0] if transport is not None else -1
        self._rtc = rtc  # the server's RtcService: sessions may then choose EGRESS_TYPE_WEBRTC
        self._video = video  # the server's VideoService: EGRESS_TYPE_WEBRTC_VIDEO (needs rtc too)
        self.egress = None  # an RtcEgress once configured for WEBRTC: it, not the WebSocket, gets the output
        self.observer = observer if observer is not None else NullObserver()  # metrics, metering, drain
        self._abort_transport = abort  # drops the TCP connection without waiting for the peer to read
        self.app_id = app_id
        self.avatar_id = avatar_id
        self.expression_count = expression_count
        self._keyframe_shape = (layout.motion_dim(expression_count),)
        self.limits = limits
        self.connection_id = f"conn_{uuid.uuid4().hex}"
        self._generator_factory = generator_factory
        self._seed = seed
        self._generator = None
        self._sample_rate = 0
        self._opus = False
        self._round: Round | None = None
        self._loop = loop = asyncio.get_running_loop()
        self._started = loop.time()
        self._token_deadline = self._started + (token_expires_at - time.time())
        self._session_deadline = self._started + limits.max_session_s
        self._hard_deadline = min((self._token_deadline, "token"), (self._session_deadline, "session"))
        self._configured = False  # a configure message arrived (its deadline no longer applies)
        self._last_message = self._started  # when the last protocol message was read (the idle deadline)
        self._timer: asyncio.TimerHandle | None = None
        self._expired: str | None = None  # the deadline the timer found passed
        self._sending = False  # a send that may wait is under way (it enforces the deadlines itself)

    # -- outgoing -------------------------------------------------------------------------------

    async def _send(self, data: bytes) -> None:
        """Send one message within ``Limits.send_timeout_s`` and before the session's hard deadline.

        A peer that does not take the bytes in time is disconnected (it is not reading, so it could
        not read an error either) and the session ends with :class:`SessionClosed`.
        """
        now = self._loop.time()
        deadline, reason = self._hard_deadline
        if deadline <= now:
            await self._expire(reason)
        transport = self._transport
        if transport is not None and transport.get_write_buffer_size() + len(data) <= self._low_water:
            # The writer is not paused and will not pause for this: the send completes without waiting.
            await self.ws.send_bytes(data)
            return
        budget = min(self.limits.send_timeout_s, deadline - now)
        self._sending = True
        try:
            async with asyncio.timeout(budget):  # no task per send, unlike wait_for
                await self.ws.send_bytes(data)
        except TimeoutError:
            why = {"token": "its session token expired", "session": "the session duration limit was reached"}
            detail = why[reason] if budget < self.limits.send_timeout_s else \
                f"it read nothing for {self.limits.send_timeout_s:g} s"
            self._drop(f"the peer stopped reading and {detail} while a message was being sent")
        finally:
            self._sending = False

    async def _egress_failed(self, code, message: str) -> None:
        """An egress failed after the confirm (no peer joined in time): report it and close."""
        with contextlib.suppress(SessionClosed, ConnectionError):
            await self.fail(code, message, CloseCode.POLICY_VIOLATION)

    def _drop(self, message: str) -> None:
        """End the session at once, without a close handshake the peer would never read."""
        log.info("session %s (app %s) dropped: %s", self.connection_id, self.app_id, message)
        self._stop_timer()
        if self._abort_transport is not None:
            self._abort_transport()
        raise SessionClosed(message)

    @property
    def busy(self) -> bool:
        """A round is in progress (a graceful drain lets it finish)."""
        rnd = self._round
        return rnd is not None and not rnd.ended and not rnd.stopped

    async def _error(self, code: ServerErrorCode, message: str, req_id: str = "") -> None:
        self.observer.error(code)
        if not self.ws.closed:
            await self._send(server_error(int(code), message, connection_id=self.connection_id, req_id=req_id))

    async def fail(self, code: ServerErrorCode, message: str, close_code: CloseCode, req_id: str = "") -> None:
        """Send ``SERVER_ERROR`` then close the socket; the session cannot continue."""
        log.info("session %s (app %s) closed: %s (%d)", self.connection_id, self.app_id, message, int(code))
        self._stop_timer()  # the session ends here: no deadline may interrupt the goodbye
        self.observer.error(code)
        try:
            await asyncio.wait_for(self.ws.send_bytes(server_error(
                int(code), message, connection_id=self.connection_id, req_id=req_id)), self.limits.send_timeout_s)
            await asyncio.wait_for(self.ws.close(code=int(close_code), message=message[:120].encode("utf-8")),
                                   self.limits.send_timeout_s)
        except (ConnectionError, TimeoutError):
            if self._abort_transport is not None:
                self._abort_transport()
        raise SessionClosed(message)

    # -- main loop ------------------------------------------------------------------------------

    async def run(self) -> None:
        task = asyncio.current_task()
        cancelling = task.cancelling()
        self._arm(task)
        try:
            try:
                await self._serve()
            except asyncio.CancelledError:
                if self._expired is None or task.uncancel() > cancelling:
                    raise  # not our deadline: the server is stopping
                await self._expire(self._expired)
        except SessionClosed:
            pass
        except ConnectionError:
            log.info("session %s: the peer went away", self.connection_id)
        finally:
            self._stop_timer()
            self.observer.flush()
            if self._generator is not None:
                self._generator.reset()
            if self.egress is not None:
                await self._rtc.close(self.connection_id)

    async def _serve(self) -> None:
        ws = self.ws
        loop = self._loop
        while not ws.closed:
            msg = await ws.receive()  # no timeout per message: the session's timer ends a wait that is too long
            self._last_message = loop.time()
            if msg.type == WSMsgType.BINARY:
                await self._on_binary(msg.data)
            elif msg.type == WSMsgType.TEXT:
                await self._refuse(ServerErrorCode.INVALID_ARGUMENT, "text frames are not part of the protocol; "
                                   "send each protobuf Message as one binary frame")
            elif msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                break

    def _next_deadline(self) -> tuple[float, str]:
        candidates = [self._hard_deadline, (self._last_message + self.limits.idle_timeout_s, "idle")]
        if not self._configured:
            candidates.append((self._started + self.limits.configure_timeout_s, "configure"))
        return min(candidates)

    def _arm(self, task: asyncio.Task) -> None:
        """Set the session's one timer to its next deadline; when that has passed, interrupt ``task``.

        Messages move the idle deadline without touching the timer: it looks again when it fires.
        A send that may wait is left to its own timeout, which already covers the hard deadlines.
        """
        now = self._loop.time()
        deadline, reason = self._next_deadline()
        if deadline > now or self._sending:
            self._timer = self._loop.call_at(deadline if deadline > now else now + 0.05, self._arm, task)
            return
        self._timer = None
        self._expired = reason
        task.cancel()

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def _expire(self, reason: str) -> None:
        if reason == "token":
            await self.fail(ServerErrorCode.TOKEN_EXPIRED, "the session token expired during the session; "
                            "request a new token and reconnect", CloseCode.TOKEN_EXPIRED)
        if reason == "session":
            await self.fail(ServerErrorCode.SESSION_DURATION_EXCEEDED,
                            f"session duration limit of {self.limits.max_session_s:g} s reached",
                            CloseCode.POLICY_VIOLATION)
        if reason == "configure":
            await self.fail(ServerErrorCode.INVALID_ARGUMENT, f"no CLIENT_CONFIGURE_SESSION within "
                            f"{self.limits.configure_timeout_s:g} s of connecting", CloseCode.POLICY_VIOLATION)
        await self.fail(ServerErrorCode.IDLE_TIMEOUT,
                        f"no message for {self.limits.idle_timeout_s:g} s; closing the idle session",
                        CloseCode.NORMAL)

    async def _refuse(self, code: ServerErrorCode, message: str, req_id: str = "") -> None:
        """A bad message: before configure the session cannot continue, after it we skip the message."""
        if self._generator is None:
            await self.fail(code, message, CloseCode.POLICY_VIOLATION, req_id)
        await self._error(code, message, req_id)

    # -- incoming -------------------------------------------------------------------------------

    async def _on_binary(self, data: bytes) -> None:
        if len(data) > self.limits.max_message_bytes:
            await self._refuse(ServerErrorCode.MESSAGE_TOO_LARGE, f"message of {len(data)} bytes is over the limit of "
                               f"{self.limits.max_message_bytes} bytes; send audio in smaller chunks")
            return
        try:
            msg = parse_message(data)
        except AvatarError as exc:
            await self._refuse(ServerErrorCode.INVALID_ARGUMENT, exc.message)
            return
        if msg.type == pb.MESSAGE_TYPE_CLIENT_CONFIGURE_SESSION:
            await self._on_configure(msg.client_configure_session)
        elif self._generator is None:
            await self._refuse(ServerErrorCode.INVALID_ARGUMENT, "the first message must be CLIENT_CONFIGURE_SESSION")
        elif msg.type == pb.MESSAGE_TYPE_CLIENT_AUDIO_INPUT:
            await self._on_audio(msg.client_audio_input)
        elif msg.type == pb.MESSAGE_TYPE_CLIENT_INTERRUPT:
            self._on_interrupt(msg.client_interrupt.req_id)
        else:
            await self._refuse(ServerErrorCode.INVALID_ARGUMENT,
                               f"{pb.MessageType.Name(msg.type)} is a server message; "
                               "clients send configure, audio input and interrupt only")

    async def _on_configure(self, cfg: pb.ClientConfigureSession) -> None:
        if self._generator is not None:
            await self._refuse(ServerErrorCode.INVALID_ARGUMENT, "the session is already configured")
            return
        self._configured = True  # from here on, starting the generator may take its time
        if cfg.sample_rate not in SAMPLE_RATES:
            await self.fail(ServerErrorCode.SAMPLE_RATE_UNSUPPORTED,
                            f"sample rate {cfg.sample_rate} Hz is not supported; use one "
                            f"of {', '.join(map(str, SAMPLE_RATES))}", CloseCode.POLICY_VIOLATION)
        if cfg.audio_format not in (pb.AUDIO_FORMAT_PCM_S16LE, pb.AUDIO_FORMAT_OGG_OPUS):
            await self.fail(ServerErrorCode.AUDIO_FORMAT_UNSUPPORTED,
                            "audio_format must be PCM_S16LE (mono) or OGG_OPUS",
                            CloseCode.POLICY_VIOLATION)
        webrtc = cfg.egress_type == pb.EGRESS_TYPE_WEBRTC and self._rtc is not None
        video = cfg.egress_type == pb.EGRESS_TYPE_WEBRTC_VIDEO and self._video is not None
        if cfg.egress_type != pb.EGRESS_TYPE_UNSPECIFIED and not (webrtc or video):
            name = pb.EgressType.Name(cfg.egress_type) if cfg.egress_type in pb.EgressType.values() \
                else str(cfg.egress_type)
            await self.fail(ServerErrorCode.AUDIO_FORMAT_UNSUPPORTED,
                            f"egress_type {name} is not supported by this server; use "
                            "EGRESS_TYPE_UNSPECIFIED (answer over this WebSocket), EGRESS_TYPE_WEBRTC or "
                            "EGRESS_TYPE_WEBRTC_VIDEO",
                            CloseCode.POLICY_VIOLATION)
        try:
            self._generator = await in_own_thread(self._start_generator, cfg.sample_rate)
        except Exception:
            log.exception("motion generator failed to start")
            await self.fail(ServerErrorCode.UNAVAILABLE,
                            "the motion generator failed to start", CloseCode.INTERNAL_ERROR)
        self._sample_rate = cfg.sample_rate
        self._opus = cfg.audio_format == pb.AUDIO_FORMAT_OGG_OPUS
        if self._opus:  # PyAV's first import takes ~60 ms: never on the event loop
            await in_own_thread(importlib.import_module, "av")
        confirm = confirm_session(self.connection_id)
        if webrtc:
            try:
                self.egress, confirm = rtc_attach.open_egress(self._rtc, self, cfg, self._egress_failed)
            except (rtc_attach.ConfigRefused, rtc_attach.EgressUnavailable) as exc:
                await self.fail(exc.code, exc.message, CloseCode.POLICY_VIOLATION)
        elif video:
            try:
                self.egress, confirm = await self._video.open(self, cfg, self._egress_failed)
            except (rtc_attach.ConfigRefused, rtc_attach.EgressUnavailable) as exc:
                await self.fail(exc.code, exc.message, CloseCode.POLICY_VIOLATION)
        await self._send(confirm)

    def _start_generator(self, sample_rate: int):
        """Make the session's generator and run it once on silence, in a worker thread: its first use
        loads models and compiles kernels (tens of ms to seconds) and must not hold the event loop."""
        generator = self._generator_factory(sample_rate, self.expression_count, self._seed)
        generator.feed(np.zeros(sample_rate // 5, np.int16))
        generator.reset()
        return generator

    async def _on_audio(self, audio: pb.ClientAudioInput) -> None:
        req_id = audio.req_id
        if not req_id or len(req_id.encode("utf-8")) > MAX_ID_BYTES:
            await self._refuse(ServerErrorCode.INVALID_ARGUMENT,
                               f"CLIENT_AUDIO_INPUT needs a req_id of 1..{MAX_ID_BYTES} bytes")
            return
        if len(audio.audio) % 2 and not self._opus:
            await self._refuse(ServerErrorCode.INVALID_ARGUMENT,
                               f"audio chunk of {len(audio.audio)} bytes is not whole PCM16 "
                               "samples (an even byte count)", req_id)
            return
        rnd = self._round
        if rnd is None or rnd.req_id != req_id:
            self._generator.reset()  # a new req_id supersedes the previous round
            rnd = self._round = Round(req_id, OggOpusDecoder(self._sample_rate) if self._opus else None)
            self.observer.round_started()
        elif rnd.stopped:
            return  # interrupted or over its limit: the client was told; the rest is discarded by design
        elif rnd.ended:
            await self._refuse(ServerErrorCode.INVALID_ARGUMENT,
                               f"round {req_id!r} already ended; use a new req_id", req_id)
            return
        if rnd.opus is None:
            await self._use_pcm(rnd, np.frombuffer(audio.audio, dtype="<i2"), audio.end)
            return
        try:
            rnd.opus.push(audio.audio)
            while rnd.opus.pending and not rnd.stopped:
                pcm = rnd.opus.pull()
                await self._use_pcm(rnd, pcm, end=False)
                await asyncio.sleep(0)  # let every other session run between bounded steps
            if audio.end and not rnd.stopped:
                await self._use_pcm(rnd, rnd.opus.finish(), end=True)
        except OggOpusError as exc:
            rnd.stopped = True
            self._generator.reset()
            await self._error(ServerErrorCode.INVALID_ARGUMENT, f"round {rnd.req_id!r}: {exc}", rnd.req_id)

    async def _use_pcm(self, rnd: Round, pcm: np.ndarray, end: bool) -> None:
        """Check the round's audio limit, then turn ``pcm`` into keyframes and send them, step by step."""
        if not pcm.size and not end:
            return
        for at in range(0, max(pcm.size, 1), STEP_SAMPLES):
            if at:
                await asyncio.sleep(0)
            if rnd.stopped:
                return
            step = pcm[at:at + STEP_SAMPLES] if pcm.size > STEP_SAMPLES else pcm
            last = end and at + STEP_SAMPLES >= pcm.size
            rnd.samples += step.size
            if (broke := self.observer.audio(step.size / self._sample_rate)) is not None:
                await self.fail(ServerErrorCode.INSUFFICIENT_BALANCE,
                                f"insufficient balance: {broke}", CloseCode.POLICY_VIOLATION,
                                rnd.req_id)
            if rnd.samples > self.limits.max_round_audio_s * self._sample_rate:
                rnd.stopped = True
                self._generator.reset()
                await self._error(ServerErrorCode.ROUND_AUDIO_LIMIT, f"round {rnd.req_id!r} is over the limit of "
                                  f"{self.limits.max_round_audio_s:g} s of audio; it was stopped", rnd.req_id)
                return
            await self._animate(rnd, step, last)

    async def _animate(self, rnd: Round, pcm: np.ndarray, end: bool) -> None:
        if self.egress is not None:
            self.egress.audio(rnd.req_id, pcm, end)
        started = time.perf_counter()
        try:
            keyframes = self._generator.feed(pcm)
            if end:
                rnd.ended = True
                tail = self._generator.finish()
                keyframes = np.concatenate([keyframes, tail]) if len(tail) else keyframes
            if keyframes.shape[1:] != self._keyframe_shape:
                raise ValueError(f"generator returned keyframes of shape {keyframes.shape}")
            data = encode_animation(self.connection_id, rnd.req_id, keyframes, rnd.frames_sent, end) \
                if len(keyframes) or end else None
        except Exception:
            log.exception("motion generator failed")
            await self.fail(ServerErrorCode.UNAVAILABLE,
                            "motion generation failed", CloseCode.INTERNAL_ERROR, rnd.req_id)
        if data is not None:
            if self.egress is not None:
                self.egress.motion(rnd.req_id, keyframes, rnd.frames_sent, end)
            else:
                await self._send(data)
            rnd.frames_sent += len(keyframes)
            self.observer.keyframes(len(keyframes), time.perf_counter() - started)
            if end:
                self.observer.flush()  # a round's counts are in the metrics when its last keyframe has left
            if end and self.observer.draining:
                await self.fail(ServerErrorCode.UNAVAILABLE, "the server is draining; reconnect", CloseCode.GOING_AWAY)

    def _on_interrupt(self, req_id: str) -> None:
        rnd = self._round
        if self.egress is not None:
            self.egress.interrupt(req_id)  # also stops a round that ended but is still playing out
        if rnd is not None and rnd.req_id == req_id and not rnd.stopped:
            rnd.stopped = True
            self._generator.reset()
        # An interrupt for any other round is stale (the client has moved on): nothing to stop.
