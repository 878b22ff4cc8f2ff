"""``FacecastVideoGenerator``: LiveKit Agents' ``VideoGenerator`` on the Facecast engine.

The agent's TTS audio goes in (``push_audio``); rendered avatar frames and the same audio come out
in lockstep on the engine's own audio clock (``engine.video.AvatarStream``): video frame j and
the audio frame yielded right after it start at the same sample, so the A/V offset is zero by
construction, whatever the render time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from livekit import rtc
from livekit.agents.voice.avatar import AudioSegmentEnd, VideoGenerator

from engine import AvatarError, ErrorCode
from engine.kit import AvatarStream, Compositor

from .audio import MonoPcm16


class FacecastVideoGenerator(VideoGenerator):
    """Renders a Facecast avatar for ``livekit.agents.voice.avatar.AvatarRunner``.

    Make one with :meth:`create` (loads the avatar into an offscreen view in backend mode) and
    iterate it once: per video frame it yields an ``rtc.VideoFrame`` (RGBA, the avatar over
    ``background``, opaque) and — while a segment plays — an ``rtc.AudioFrame`` of exactly
    ``sample_rate / fps`` samples; after a segment's last audio frame, ``AudioSegmentEnd``.
    Between segments: idle-animation video only. ``clear_buffer()`` drops queued speech and stops
    the segment playing before the next frame (the runner then reports the interruption).
    ``push_audio`` waits while more than ``max_queued_s`` of speech is queued (back-pressure).

    ``realtime=True`` paces frames at ``fps`` on the monotonic clock (pacing only: motion time is
    always the sample count); ``False`` yields as fast as rendering allows (offline, tests).
    """

    def __init__(self, stream: AvatarStream, *, realtime: bool = True,
                 background: tuple[int, int, int] = (28, 30, 38)) -> None:
        self.stream = stream
        self.sample_rate = stream.sample_rate
        self.fps = stream.fps
        self.realtime = bool(realtime)
        self._pcm = MonoPcm16(stream.sample_rate)
        self._compose = Compositor(stream.height, stream.width, background)
        self._iterating = False
        self.frames = 0  # video frames yielded
        self.audio_samples = 0  # audio samples yielded

    @classmethod
    async def create(cls, avatar: str = "demo", *, width: int = 512, height: int = 512, fps: int = 25,
                     sample_rate: int = 24000, backend: str | None = None, realtime: bool = True,
                     background: tuple[int, int, int] = (28, 30, 38), **stream_options) -> "FacecastVideoGenerator":
        """Load ``avatar`` (an id the SDK's region serves; ``demo`` is bundled) and make a generator for it.

        ``stream_options`` go to ``AvatarStream`` (``motion_generator``, ``seed``, ``max_queued_s``).
        """
        stream = await AvatarStream.create(avatar, width=width, height=height, fps=fps, sample_rate=sample_rate,
                                           backend=backend, app_id="livekit-agent", **stream_options)
        try:
            return cls(stream, realtime=realtime, background=background)
        except BaseException:
            stream.close()
            raise

    @property
    def queued_seconds(self) -> float:
        return self.stream.queued_seconds

    @property
    def speaking(self) -> bool:
        return self.stream.speaking

    # -- VideoGenerator -------------------------------------------------------------------------

    async def push_audio(self, frame: rtc.AudioFrame | AudioSegmentEnd) -> None:
        if self.stream.closed:
            raise AvatarError(ErrorCode.playbackStartFailed, "push_audio after aclose()")
        if isinstance(frame, AudioSegmentEnd):
            tail = self._pcm.flush()
            if tail.size:
                self.stream.push(tail)
            self.stream.end_segment()
            return
        pcm = self._pcm.convert(frame)
        await self.stream.wait_for_room()
        self.stream.push(pcm)

    def clear_buffer(self) -> None:
        """Interrupt: queued speech is dropped and the playing segment stops before the next frame."""
        self._pcm.reset()
        self.stream.clear()

    def __aiter__(self) -> AsyncIterator[rtc.VideoFrame | rtc.AudioFrame | AudioSegmentEnd]:
        if self._iterating:
            raise AvatarError(ErrorCode.playbackInitFailed, "a FacecastVideoGenerator can be iterated only once")
        self._iterating = True
        return self._frames()

    async def aclose(self) -> None:
        """Stop the stream and release the view (renderer, audio sink, threads). Idempotent."""
        self.stream.close()

    async def _frames(self) -> AsyncIterator[rtc.VideoFrame | rtc.AudioFrame | AudioSegmentEnd]:
        stream = self.stream
        t0 = time.monotonic()
        while not stream.closed:
            try:
                step = await stream.next_frame()
            except AvatarError:
                if stream.closed:
                    return
                raise
            yield rtc.VideoFrame(stream.width, stream.height, rtc.VideoBufferType.RGBA, self._compose(step.rgba))
            self.frames += 1
            if step.audio is not None:
                yield rtc.AudioFrame(step.audio.tobytes(), self.sample_rate, 1, step.audio.size)
                self.audio_samples += step.audio.size
            if step.segment_ended:
                yield AudioSegmentEnd()
            if self.realtime:
                delay = t0 + self.frames / self.fps - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                elif delay < -0.2:  # fell far behind: a new grid rather than a burst to catch up
                    t0 = time.monotonic() - self.frames / self.fps


__all__ = ["FacecastVideoGenerator"]
