"""``FacecastVideoGenerator``: LiveKit Agents' ``VideoGenerator`` on the Facecast engine.

The agent's TTS audio goes in (``push_audio``); rendered avatar frames and the same audio come out,
in lockstep on one clock: the engine's own virtual audio sink, advanced one video frame at a time.
Step j renders the pose at stream position ``j * sr / fps`` and then lets the sink play the next
``sr / fps`` samples, so video frame j and the audio frame yielded right after it start at the same
audio sample — the A/V offset is zero by construction, whatever the render time.

Motion comes from a motion-generator plugin (the Motion Server's, run in-process) and reaches the
controller as the animation messages a Motion Server would send, so playback, starvation handling
and the speaking→idle blend are exactly the engine's.

Speech segments are queued here, not in the controller: in the engine a new round interrupts the
one playing, but an agent's TTS delivers the next segment while the previous one still plays.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import AsyncIterator

import numpy as np
from livekit import rtc
from livekit.agents.voice.avatar import AudioSegmentEnd, VideoGenerator

from engine import AvatarError, AvatarManager, AvatarSDK, AvatarView, Configuration, ErrorCode, Offscreen
from engine.config import AudioFormat
from engine.enums import DrivingServiceMode, FrameStarvationMode
from engine.plugins import get_plugin_manager
from engine.wire import encode_animation

from .audio import MonoPcm16, to_audio_frame
from .compose import Compositor

FIRST_FRAME_TIMEOUT_S = 180.0  # a cold numba cache compiles the render kernels on the first frame
FRAME_TIMEOUT_S = 30.0
CONNECTION_ID = "facecast-livekit"


class _Segment:
    """One TTS segment: its audio chunks until ``AudioSegmentEnd``."""

    __slots__ = ("chunks", "ended")

    def __init__(self) -> None:
        self.chunks: collections.deque[np.ndarray] = collections.deque()
        self.ended = False


class _Playing:
    """The segment the controller is playing: what was handed over and where it ends on the sink."""

    __slots__ = ("segment", "conversation_id", "start", "samples", "keyframes", "handed_all")

    def __init__(self, segment: _Segment, start: int) -> None:
        self.segment = segment
        self.conversation_id: str | None = None
        self.start = start  # sink stream position of the segment's first sample
        self.samples = 0
        self.keyframes = 0
        self.handed_all = False


class FacecastVideoGenerator(VideoGenerator):
    """Renders a Facecast avatar for ``livekit.agents.voice.avatar.AvatarRunner``.

    Make one with :meth:`create` (loads the avatar, opens an offscreen view in backend mode). Iterate
    it once: it yields, per video frame, an ``rtc.VideoFrame`` (RGBA, the avatar over ``background``)
    and — while a segment plays — an ``rtc.AudioFrame`` of exactly ``sample_rate / fps`` samples;
    after the last audio frame of a segment it yields ``AudioSegmentEnd``. Between segments it yields
    idle-animation video only. ``clear_buffer()`` drops all queued speech and stops the segment
    playing before the next frame. ``push_audio`` waits while more than ``max_queued_s`` of audio is
    queued (back-pressure on the TTS, no unbounded queue).

    ``realtime=True`` paces the frames at ``fps`` on the monotonic clock (pacing only: motion time
    is always the sample count); ``False`` yields as fast as rendering allows (offline, tests).
    """

    def __init__(self, view: AvatarView, *, fps: int = 25, motion_generator: str | None = None, seed: int = 0,
                 realtime: bool = True, max_queued_s: float = 60.0,
                 background: tuple[int, int, int] = (28, 30, 38)) -> None:
        if isinstance(fps, bool) or not isinstance(fps, int) or not 1 <= fps <= 60:
            raise AvatarError(ErrorCode.playbackInitFailed, f"fps must be an integer 1..60, not {fps!r}")
        if not isinstance(view.container, Offscreen):
            raise AvatarError(ErrorCode.playbackInitFailed, "FacecastVideoGenerator needs an Offscreen view")
        config = AvatarSDK.configuration
        if config is None or config.driving_service_mode != DrivingServiceMode.backend:
            raise AvatarError(ErrorCode.playbackInitFailed,
                              "FacecastVideoGenerator drives the controller in backend mode: initialize the SDK "
                              "with Configuration(driving_service_mode='backend') (create() does this for you)")
        self.sample_rate = config.audio_format.sample_rate
        if self.sample_rate % fps:
            raise AvatarError(ErrorCode.playbackInitFailed,
                              f"{self.sample_rate} Hz is not a whole number of samples per frame at {fps} fps")
        self.fps = fps
        self.step = self.sample_rate // fps
        self.realtime = bool(realtime)
        self.view = view
        self.controller = view.controller
        self.controller.set_audio_sink("virtual")  # this generator owns the clock
        self.controller.frame_starvation_mode = FrameStarvationMode.strictSync
        name = motion_generator or default_motion_generator()
        factory = get_plugin_manager().get("motion_generators", name).factory
        self._motion = factory(self.sample_rate, view.avatar.expression_count, seed)
        self._pcm = MonoPcm16(self.sample_rate)
        self._compose = Compositor(view.container.height, view.container.width, background)
        self._segments: collections.deque[_Segment] = collections.deque()
        self._playing: _Playing | None = None
        self._queued = 0
        self._max_queued = int(max_queued_s * self.sample_rate)
        self._room = asyncio.Event()
        self._room.set()
        self._iterating = False
        self._closed = False
        self.frames = 0  # video frames yielded
        self.audio_samples = 0  # audio samples yielded

    @classmethod
    async def create(cls, avatar: str = "demo", *, width: int = 512, height: int = 512, fps: int = 25,
                     sample_rate: int = 24000, backend: str | None = None, app_id: str = "livekit-agent",
                     **options) -> "FacecastVideoGenerator":
        """Load ``avatar`` (an id the SDK's region serves, ``demo`` bundled) and make a generator for it."""
        config = AvatarSDK.configuration
        if config is None:
            await AvatarSDK.initialize(app_id, Configuration(driving_service_mode=DrivingServiceMode.backend,
                                                             audio_format=AudioFormat(sample_rate=sample_rate)))
        elif config.driving_service_mode != DrivingServiceMode.backend or \
                config.audio_format.sample_rate != sample_rate:
            raise AvatarError(ErrorCode.playbackInitFailed,
                              f"the SDK is already initialized for {config.driving_service_mode.value} mode at "
                              f"{config.audio_format.sample_rate} Hz; the LiveKit avatar needs backend mode at "
                              f"{sample_rate} Hz (initialize it that way, or let create() do it)")
        loaded = await AvatarManager.shared.load(avatar)
        view = AvatarView(loaded, Offscreen(width, height), backend=backend)
        try:
            generator = cls(view, fps=fps, **options)
            await generator.controller.initialize_audio_context()
        except BaseException:
            view.dispose()
            raise
        return generator

    @property
    def queued_seconds(self) -> float:
        """Speech pushed but not yet handed to the playing segment (what back-pressure limits)."""
        return self._queued / self.sample_rate

    @property
    def speaking(self) -> bool:
        """A segment is playing (its audio frames are being yielded)."""
        return self._playing is not None

    # -- VideoGenerator -------------------------------------------------------------------------

    async def push_audio(self, frame: rtc.AudioFrame | AudioSegmentEnd) -> None:
        if self._closed:
            raise AvatarError(ErrorCode.playbackStartFailed, "push_audio after aclose()")
        if isinstance(frame, AudioSegmentEnd):
            if self._segments and not self._segments[-1].ended:
                tail = self._pcm.flush()
                if tail.size:
                    self._segments[-1].chunks.append(tail)
                    self._queued += tail.size
                self._segments[-1].ended = True
            return
        pcm = self._pcm.convert(frame)
        while self._queued >= self._max_queued and not self._closed:
            self._room.clear()
            await self._room.wait()
        if not self._segments or self._segments[-1].ended:
            self._segments.append(_Segment())
        if pcm.size:
            self._segments[-1].chunks.append(pcm)
            self._queued += pcm.size

    def clear_buffer(self) -> None:
        """Interrupt: queued speech is dropped and the playing segment stops before the next frame."""
        self._segments.clear()
        self._queued = 0
        self._room.set()
        self._pcm.reset()
        if self._playing is not None:
            self._playing = None
            self.controller.interrupt()
            self._motion.reset()

    def __aiter__(self) -> AsyncIterator[rtc.VideoFrame | rtc.AudioFrame | AudioSegmentEnd]:
        if self._iterating:
            raise AvatarError(ErrorCode.playbackInitFailed, "a FacecastVideoGenerator can be iterated only once")
        self._iterating = True
        return self._stream()

    async def aclose(self) -> None:
        """Stop the stream and release the view (renderer, audio sink, threads). Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._room.set()
        self.view.dispose()

    # -- the frame loop -------------------------------------------------------------------------

    async def _stream(self) -> AsyncIterator[rtc.VideoFrame | rtc.AudioFrame | AudioSegmentEnd]:
        sink = self.controller.audio_sink
        width, height = self.view.container.width, self.view.container.height
        t0 = time.monotonic()
        while not self._closed:
            self._hand_over(sink)
            timeout = FIRST_FRAME_TIMEOUT_S if self.frames == 0 else FRAME_TIMEOUT_S
            rgba = await asyncio.to_thread(self.view.render_frame, timeout)
            if self._closed:
                return
            video = rtc.VideoFrame(width, height, rtc.VideoBufferType.RGBA, self._compose(rgba))
            audio = sink.advance(self.step)
            playing = self._playing
            yield video
            self.frames += 1
            if playing is not None and playing is self._playing:
                yield to_audio_frame(audio, self.sample_rate)
                self.audio_samples += self.step
                if playing.handed_all and sink.position() >= playing.start + playing.samples:
                    self._playing = None
                    yield AudioSegmentEnd()
            if self.realtime:
                delay = t0 + self.frames / self.fps - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                elif delay < -0.2:  # fell far behind: start a new grid rather than bursting to catch up
                    t0 = time.monotonic() - self.frames / self.fps

    def _hand_over(self, sink) -> None:
        """Move queued speech into the controller: the next segment once the previous one has played."""
        if self._playing is None:
            while self._segments and not self._segments[0].chunks and self._segments[0].ended:
                self._segments.popleft()  # a segment end with no audio: nothing to play
            if not self._segments or not self._segments[0].chunks:
                return
            self._playing = _Playing(self._segments[0], sink.write_position())
        playing = self._playing
        segment = playing.segment
        while segment.chunks:
            pcm = segment.chunks.popleft()
            self._queued -= pcm.size
            conversation_id = self.controller.yield_audio_data(pcm, end=False)
            playing.conversation_id = playing.conversation_id or conversation_id
            playing.samples += pcm.size
            self._send_motion(playing, self._motion.feed(pcm), end=False)
        self._room.set()
        if segment.ended and not playing.handed_all:
            self._segments.popleft()
            playing.handed_all = True
            self.controller.yield_audio_data(b"", end=True)
            self._send_motion(playing, self._motion.finish(), end=True)

    def _send_motion(self, playing: _Playing, keyframes: np.ndarray, *, end: bool) -> None:
        if not keyframes.shape[0] and not end:
            return
        message = encode_animation(CONNECTION_ID, playing.conversation_id, keyframes, playing.keyframes, end)
        playing.keyframes += keyframes.shape[0]
        self.controller.yield_frames_data([message], playing.conversation_id)


def default_motion_generator() -> str:
    """The motion generator a Motion Server uses by default (the same motion as the other modes)."""
    from engine.server.app import MotionServer

    return MotionServer.__init__.__kwdefaults__["motion_generator"]


__all__ = ["FacecastVideoGenerator", "default_motion_generator"]
