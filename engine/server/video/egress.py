"""The rendered-video egress of one session: the server plays the session's rounds on an avatar and
streams the picture and the speech to every joined viewer as one WebRTC stream (docs/protocol.md).

The session hands over what it would have sent on its WebSocket (``audio``, ``motion``,
``interrupt``), exactly as to the motion egress; here the audio (resampled to 48 kHz) and the
session's own keyframes drive an :class:`~engine.video.AvatarStream`, rendered once for all viewers.
A new ``req_id`` supersedes the round before it, and ``interrupt`` stops it, before the next frame.

Viewers join with the session's join token (WHEP, ``/v1/rtc/sessions/<id>/whep``); each gets the
audio and video tracks and a ``facecast-state`` data channel carrying the seed's conversation
states as JSON (``{"conversationState": "playing"}``). Limits are the motion egress's.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets

import numpy as np

from ...rtc.codes import RtcErrorCode
from ...rtc.resample import MonoResampler
from ..rtc.join_tokens import JoinRefused
from ..rtc.peer import ChannelSpec, answer_offer
from ..rtc.settings import RtcSettings

log = logging.getLogger("facecast.server.video")

STATE_CHANNEL = ChannelSpec("facecast-state", 2)


class _Viewer:
    def __init__(self, viewer_id: str, answered) -> None:
        self.id = viewer_id
        self.pc = answered.pc
        self.channel = answered.channels[STATE_CHANNEL.label]
        self.connected = asyncio.Event()
        self.closed = False


class VideoEgress:
    """Made by :class:`~engine.server.video.service.VideoService` for a session configured with
    ``EGRESS_TYPE_WEBRTC_VIDEO``; ``media`` is the session's :class:`~engine.video.media.AvatarMedia`."""

    def __init__(self, *, connection_id: str, app_id: str, sample_rate: int, settings: RtcSettings, media,
                 on_failure=None, on_close=None) -> None:
        self.connection_id = connection_id
        self.app_id = app_id
        self.sample_rate = sample_rate
        self.settings = settings
        self.media = media
        media.on_segment = self._on_segment
        self._on_failure = on_failure
        self._on_close = on_close
        self.viewers: dict[str, _Viewer] = {}
        self.joins = 0
        self.state = "idle"
        self._req_id: str | None = None
        self._resampler: MonoResampler | None = None
        self._closed = False
        self._idle = asyncio.Event()
        self._idle.set()
        self._busy = asyncio.Event()
        self._watchdog = asyncio.get_running_loop().create_task(self._watch_joins(), name="facecast-video-joins")

    # -- the session's side -------------------------------------------------------------------------

    def audio(self, req_id: str, pcm: np.ndarray, end: bool) -> None:
        if self._closed:
            return
        stream = self.media.stream
        if req_id != self._req_id:
            stream.clear()  # a new round supersedes the one before it, even one still playing
            self._req_id = req_id
            self._resampler = MonoResampler(self.sample_rate, stream.sample_rate)
        if self._resampler is None:
            return  # this round was interrupted: the rest of its audio never plays
        pcm48 = self._resampler.feed(pcm)
        if end:
            pcm48 = np.concatenate([pcm48, self._resampler.flush()])
        stream.push(pcm48)
        if end:
            stream.end_segment()
            self._resampler = None

    def motion(self, req_id: str, keyframes: np.ndarray, start_frame: int, end: bool) -> None:
        if self._closed or req_id != self._req_id:
            return
        self.media.stream.push_keyframes(keyframes)

    def interrupt(self, req_id: str) -> None:
        if self._closed or req_id != self._req_id:
            return
        self.media.stream.clear()
        self._resampler = None
        self._on_segment(False)

    async def close(self) -> None:
        """End every viewer, the renderer and the watchdog; idempotent."""
        if self._closed:
            return
        self._closed = True
        self._watchdog.cancel()
        await asyncio.gather(*(self._drop(v, "the session ended") for v in list(self.viewers.values())),
                             return_exceptions=True)
        await self.media.close()
        if self._on_close is not None:
            self._on_close()

    # -- viewers ------------------------------------------------------------------------------------

    async def join(self, offer_sdp: str) -> tuple[str, str]:
        """Answer a viewer's offer (audio + video receive, the state channel): ``(viewer id, answer SDP)``."""
        if self._closed:
            raise JoinRefused(404, "sessionNotFound", "the session has ended")
        if self.joins >= self.settings.max_joins:
            raise JoinRefused(429, "joinLimitExceeded", f"this session was joined {self.joins} times, its limit; "
                              "start a new session")
        if len(self.viewers) >= self.settings.max_peers:
            raise JoinRefused(409, "peerLimitExceeded", f"{len(self.viewers)} viewers watch this session already, "
                              "its limit; leave with DELETE on the viewer's URL first")
        self.joins += 1
        audio, video = self.media.subscribe()
        answered = await answer_offer(offer_sdp, tracks=[audio, video], channels=[STATE_CHANNEL],
                                      policy=self.settings.ice)
        if self._closed:
            await answered.pc.close()
            raise JoinRefused(404, "sessionNotFound", "the session ended while the viewer was joining")
        viewer = _Viewer(secrets.token_hex(8), answered)
        self.viewers[viewer.id] = viewer
        self._idle.clear()
        self._busy.set()
        viewer.channel.on("open", lambda: self._send_state(viewer))

        @viewer.pc.on("connectionstatechange")
        def _state() -> None:
            state = viewer.pc.connectionState
            if state == "connected":
                viewer.connected.set()
            elif state in ("failed", "closed"):
                self._drop_soon(viewer, f"its connection is {state}")

        asyncio.get_running_loop().create_task(self._connect_deadline(viewer))
        log.info("session %s: viewer %s joined (%d of %d joins)", self.connection_id, viewer.id, self.joins,
                 self.settings.max_joins)
        return viewer.id, answered.sdp

    async def leave(self, viewer_id: str) -> bool:
        viewer = self.viewers.get(viewer_id)
        if viewer is None:
            return False
        await self._drop(viewer, "it left")
        return True

    def _on_segment(self, speaking: bool) -> None:
        state = "playing" if speaking else "idle"
        if state != self.state:
            self.state = state
            for viewer in list(self.viewers.values()):
                self._send_state(viewer)

    def _send_state(self, viewer: _Viewer) -> None:
        if viewer.closed or viewer.channel.readyState != "open":
            return
        try:
            viewer.channel.send(json.dumps({"conversationState": self.state}))
        except Exception as exc:  # the channel closed under us
            self._drop_soon(viewer, f"its state channel failed: {exc}")

    async def _connect_deadline(self, viewer: _Viewer) -> None:
        try:
            await asyncio.wait_for(viewer.connected.wait(), self.settings.connect_timeout_s)
        except asyncio.TimeoutError:
            await self._drop(viewer, f"ICE/DTLS did not connect within {self.settings.connect_timeout_s:g} s")

    def _drop_soon(self, viewer: _Viewer, why: str) -> None:
        if not viewer.closed:
            asyncio.get_running_loop().create_task(self._drop(viewer, why))

    async def _drop(self, viewer: _Viewer, why: str) -> None:
        if viewer.closed:
            return
        viewer.closed = True
        self.viewers.pop(viewer.id, None)
        if not self.viewers:
            self._busy.clear()
            self._idle.set()
        log.info("session %s: viewer %s closed: %s", self.connection_id, viewer.id, why)
        await viewer.pc.close()

    async def _watch_joins(self) -> None:
        """With no viewer for ``join_timeout_s`` (at the start, or after the last one left), fail the session."""
        while True:
            await self._idle.wait()
            try:
                await asyncio.wait_for(self._busy.wait(), self.settings.join_timeout_s)
            except asyncio.TimeoutError:
                log.info("session %s: no viewer within %g s", self.connection_id, self.settings.join_timeout_s)
                if self._on_failure is not None:
                    await self._on_failure(RtcErrorCode.JOIN_TIMEOUT, "no viewer joined the video egress within "
                                           f"{self.settings.join_timeout_s:g} s")
                return
            await self._idle.wait()
