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
from ..rtc.peers import PeerSet
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
        self._viewers = PeerSet(connection_id, settings, what="viewer", on_idle_timeout=self._join_timeout)
        self.viewers = self._viewers.peers
        self.state = "idle"
        self._req_id: str | None = None
        self._resampler: MonoResampler | None = None
        self._closed = False

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
        await self._viewers.close()
        await self.media.close()
        if self._on_close is not None:
            self._on_close()

    # -- viewers ------------------------------------------------------------------------------------

    async def join(self, offer_sdp: str) -> tuple[str, str]:
        """Answer a viewer's offer (audio + video receive, the state channel): ``(viewer id, answer SDP)``."""
        if self._closed:
            raise JoinRefused(404, "sessionNotFound", "the session has ended")
        self._viewers.reserve()
        audio, video = self.media.subscribe()
        try:
            answered = await answer_offer(offer_sdp, tracks=[audio, video], channels=[STATE_CHANNEL],
                                          policy=self.settings.ice)
        except BaseException:
            self._viewers.release()
            raise
        viewer = _Viewer(secrets.token_hex(8), answered)
        await self._viewers.add(viewer)
        viewer.channel.on("open", lambda: self._send_state(viewer))
        return viewer.id, answered.sdp

    async def leave(self, viewer_id: str) -> bool:
        return await self._viewers.leave(viewer_id)

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
            self._viewers.drop_soon(viewer, f"its state channel failed: {exc}")

    def _join_timeout(self) -> None:
        log.info("session %s: no viewer within %g s", self.connection_id, self.settings.join_timeout_s)
        if self._on_failure is not None:
            asyncio.get_running_loop().create_task(self._on_failure(
                RtcErrorCode.JOIN_TIMEOUT, f"no viewer joined the video egress within {self.settings.join_timeout_s:g} s"))
