"""``AvatarStream``: speech segments in; per video frame, the rendered avatar and the audio heard with it.

The clock is the engine's own: a virtual audio sink advanced one video frame at a time. Step j
renders the pose at stream position ``j * sr / fps`` and then lets the sink play the next
``sr / fps`` samples, so frame j's picture and the audio returned with it start at the same
sample — the A/V offset is zero by construction, however long rendering takes.

Motion comes from a motion-generator plugin (what a Motion Server runs), handed to an
``AvatarController`` in backend mode as the animation messages a Motion Server would send, so
playback, starvation handling and the speaking→idle blend are exactly the engine's.

Segments are queued here, not in the controller: in the engine a new round interrupts the one
playing, but a speech source (a TTS, a backend) delivers the next segment while one still plays.
"""

from __future__ import annotations

import asyncio
import collections

import attrs
import numpy as np

from ..config import DEFAULT_MOTION_GENERATOR, AudioFormat, Configuration
from ..enums import DrivingServiceMode, FrameStarvationMode
from ..errors import AvatarError, ErrorCode
from ..motion.layout import motion_dim
from ..plugins import get_plugin_manager
from ..wire.codec import encode_animation

FIRST_FRAME_TIMEOUT_S = 180.0  # a cold numba cache compiles the render kernels on the first frame
FRAME_TIMEOUT_S = 30.0
CONNECTION_ID = "facecast-video"


@attrs.frozen
class StreamFrame:
    """One step: ``rgba`` uint8 (H, W, 4), straight alpha (valid until the next step);
    ``audio`` int16 (sr/fps,) heard from this frame on, or None between segments;
    ``segment_ended``: this step played the last sample of a segment."""

    index: int
    rgba: np.ndarray
    audio: np.ndarray | None
    segment_ended: bool


class _Segment:
    __slots__ = ("chunks", "keyframes", "ended")

    def __init__(self) -> None:
        self.chunks: collections.deque[np.ndarray] = collections.deque()
        self.keyframes: collections.deque[np.ndarray] = collections.deque()  # external motion only
        self.ended = False


class _Playing:
    """The segment the controller plays: what was handed over and where it ends on the sink."""

    __slots__ = ("segment", "conversation_id", "start", "samples", "keyframes", "handed_all")

    def __init__(self, segment: _Segment, start: int) -> None:
        self.segment = segment
        self.conversation_id: str | None = None
        self.start = start  # sink stream position of the segment's first sample
        self.samples = 0
        self.keyframes = 0
        self.handed_all = False


class AvatarStream:
    """Make one with :meth:`create`; ``push`` / ``end_segment`` / ``clear``; ``await next_frame()``.

    ``push`` never blocks; ``await wait_for_room()`` before it gives back-pressure (at most
    ``max_queued_s`` of speech waits here). Motion is made from the audio by a motion-generator
    plugin (``motion_generator``: a name, default the Motion Server's), or — with
    ``motion_generator=False`` — comes from the caller through ``push_keyframes`` (a Motion
    Server's own keyframes, 25 per second of the segment's audio, in order). ``clear()`` drops queued speech and stops the segment
    playing before the next frame. ``close()`` releases the view (renderer, sink, threads).
    """

    def __init__(self, view, *, fps: int = 25, motion_generator: str | bool | None = None, seed: int = 0,
                 max_queued_s: float = 60.0) -> None:
        from ..render.containers import Offscreen
        from ..sdk import AvatarSDK

        if isinstance(fps, bool) or not isinstance(fps, int) or not 1 <= fps <= 60:
            raise AvatarError(ErrorCode.playbackInitFailed, f"fps must be an integer 1..60, not {fps!r}")
        if not isinstance(view.container, Offscreen):
            raise AvatarError(ErrorCode.playbackInitFailed, "an AvatarStream needs an Offscreen view")
        config = AvatarSDK.configuration
        if config is None or config.driving_service_mode != DrivingServiceMode.backend:
            raise AvatarError(ErrorCode.playbackInitFailed,
                              "an AvatarStream drives its controller in backend mode: initialize the SDK with "
                              "Configuration(driving_service_mode='backend') (create() does this for you)")
        self.sample_rate = config.audio_format.sample_rate
        if self.sample_rate % fps:
            raise AvatarError(ErrorCode.playbackInitFailed,
                              f"{self.sample_rate} Hz is not a whole number of samples per frame at {fps} fps")
        self.fps = fps
        self.step = self.sample_rate // fps
        self.view = view
        self.width, self.height = view.container.width, view.container.height
        self.controller = view.controller
        self.controller.set_audio_sink("virtual")  # this stream owns the clock
        self.controller.frame_starvation_mode = FrameStarvationMode.strictSync
        if motion_generator is False:
            self._motion = None
        else:
            name = motion_generator or DEFAULT_MOTION_GENERATOR
            factory = get_plugin_manager().get("motion_generators", name).factory
            self._motion = factory(self.sample_rate, view.avatar.expression_count, seed)
        self._segments: collections.deque[_Segment] = collections.deque()
        self._playing: _Playing | None = None
        self._queued = 0
        self._max_queued = int(max_queued_s * self.sample_rate)
        self._room = asyncio.Event()
        self._room.set()
        self._sink = None
        self._scaled = np.zeros(self.step, np.float32)
        self._audio = np.zeros(self.step, np.int16)
        self.frames = 0
        self.closed = False

    @classmethod
    async def create(cls, avatar="demo", *, width: int = 512, height: int = 512, fps: int = 25,
                     sample_rate: int = 24000, backend: str | None = None, app_id: str = "facecast-video",
                     **options) -> "AvatarStream":
        """An offscreen view of ``avatar``: a loaded ``Avatar``, or an id the SDK's region serves
        (``demo`` is bundled). Initializes the SDK in backend mode at ``sample_rate`` if nothing
        initialized it yet.
        """
        from ..avatar.manager import AvatarManager
        from ..render.containers import Offscreen
        from ..render.view import AvatarView
        from ..sdk import AvatarSDK

        config = AvatarSDK.configuration
        if config is None:
            await AvatarSDK.initialize(app_id, Configuration(driving_service_mode=DrivingServiceMode.backend,
                                                             audio_format=AudioFormat(sample_rate=sample_rate)))
        elif config.driving_service_mode != DrivingServiceMode.backend or \
                config.audio_format.sample_rate != sample_rate:
            raise AvatarError(ErrorCode.playbackInitFailed,
                              f"the SDK is initialized for {config.driving_service_mode.value} mode at "
                              f"{config.audio_format.sample_rate} Hz; an AvatarStream needs backend mode at "
                              f"{sample_rate} Hz (initialize it that way, or let create() do it)")
        loaded = await AvatarManager.shared.load(avatar) if isinstance(avatar, str) else avatar
        view = AvatarView(loaded, Offscreen(width, height), backend=backend)
        try:
            stream = cls(view, fps=fps, **options)
            await stream.controller.initialize_audio_context()
        except BaseException:
            view.dispose()
            raise
        return stream

    # -- speech in ------------------------------------------------------------------------------

    @property
    def queued_seconds(self) -> float:
        """Speech pushed but not yet handed to the controller (what back-pressure limits)."""
        return self._queued / self.sample_rate

    @property
    def speaking(self) -> bool:
        """A segment is playing: ``next_frame`` returns its audio."""
        return self._playing is not None

    async def wait_for_room(self) -> None:
        while self._queued >= self._max_queued and not self.closed:
            self._room.clear()
            await self._room.wait()

    def push(self, pcm16: np.ndarray) -> None:
        """Queue int16 mono samples at ``sample_rate`` onto the open segment (a new one if none is open)."""
        if self.closed:
            raise AvatarError(ErrorCode.playbackStartFailed, "audio pushed after close()")
        pcm = np.asarray(pcm16)
        if pcm.dtype != np.int16 or pcm.ndim != 1:
            raise AvatarError(ErrorCode.playbackStartFailed,
                              f"push takes 1-D int16 PCM (mono) at {self.sample_rate} Hz, not {pcm.dtype} {pcm.shape}")
        if not self._segments or self._segments[-1].ended:
            self._segments.append(_Segment())
        if pcm.size:
            self._segments[-1].chunks.append(pcm.copy())
            self._queued += pcm.size

    def push_keyframes(self, keyframes: np.ndarray) -> None:
        """Queue the open segment's next keyframes (``motion_generator=False`` streams only)."""
        if self._motion is not None:
            raise AvatarError(ErrorCode.playbackStartFailed,
                              "this AvatarStream makes its own motion; make it with motion_generator=False "
                              "to give it keyframes")
        kf = np.asarray(keyframes, dtype=np.float32)
        if kf.ndim != 2 or kf.shape[1] != self.keyframe_dim:
            raise AvatarError(ErrorCode.playbackStartFailed,
                              f"keyframes must be (K, {self.keyframe_dim}) float32, not {kf.shape}")
        if not self._segments or self._segments[-1].ended:
            self._segments.append(_Segment())
        if kf.shape[0]:
            self._segments[-1].keyframes.append(kf.copy())

    @property
    def keyframe_dim(self) -> int:
        """Values per keyframe for this avatar (the engine motion layout)."""
        return motion_dim(self.view.avatar.expression_count)

    def end_segment(self) -> None:
        """The open segment is complete (its last audio was pushed); no-op when none is open."""
        if self._segments and not self._segments[-1].ended:
            self._segments[-1].ended = True

    def clear(self) -> None:
        """Interrupt: queued speech is dropped and the playing segment stops before the next frame."""
        self._segments.clear()
        self._queued = 0
        self._room.set()
        if self._playing is not None:
            self._playing = None
            self.controller.interrupt()
            if self._motion is not None:
                self._motion.reset()

    # -- frames out -----------------------------------------------------------------------------

    async def next_frame(self) -> StreamFrame:
        """Render the frame at the current stream position, then play the next ``sr/fps`` samples."""
        if self.closed:
            raise AvatarError(ErrorCode.playbackStartFailed, "next_frame() after close()")
        sink = self._sink = self._sink or self.controller.audio_sink
        self._hand_over(sink)
        timeout = FIRST_FRAME_TIMEOUT_S if self.frames == 0 else FRAME_TIMEOUT_S
        rgba = await asyncio.to_thread(self.view.render_frame, timeout)
        if self.closed:
            raise AvatarError(ErrorCode.playbackStartFailed, "the stream was closed while rendering")
        played = sink.advance(self.step)
        playing = self._playing  # clear() during the render dropped it: no audio for this frame
        audio, ended = None, False
        if playing is not None:
            np.multiply(played, 32768.0, out=self._scaled)
            np.clip(self._scaled, -32768, 32767, out=self._scaled)
            np.rint(self._scaled, out=self._scaled)
            self._audio[:] = self._scaled
            audio = self._audio
            if playing.handed_all and sink.position() >= playing.start + playing.samples:
                self._playing = None
                ended = True
        frame = StreamFrame(self.frames, rgba, audio, ended)
        self.frames += 1
        return frame

    def close(self) -> None:
        """Release the view (renderer, audio sink, threads); idempotent."""
        if self.closed:
            return
        self.closed = True
        self._room.set()
        self.view.dispose()

    def _hand_over(self, sink) -> None:
        """Move queued speech into the controller: the next segment once the previous one has played."""
        if self._playing is None:
            while self._segments and not self._segments[0].chunks and self._segments[0].ended:
                self._segments.popleft()  # a segment end with no audio: nothing to play
            if not self._segments or not self._segments[0].chunks:
                return  # (keyframes without audio wait for it)
            self._playing = _Playing(self._segments[0], sink.write_position())
        playing = self._playing
        segment = playing.segment
        while segment.chunks:
            pcm = segment.chunks.popleft()
            self._queued -= pcm.size
            conversation_id = self.controller.yield_audio_data(pcm, end=False)
            playing.conversation_id = playing.conversation_id or conversation_id
            playing.samples += pcm.size
            if self._motion is not None:
                self._send_motion(playing, self._motion.feed(pcm), end=False)
        while segment.keyframes:
            self._send_motion(playing, segment.keyframes.popleft(), end=False)
        self._room.set()
        if segment.ended and not playing.handed_all:
            self._segments.popleft()
            playing.handed_all = True
            self.controller.yield_audio_data(b"", end=True)
            last = self._motion.finish() if self._motion is not None else np.zeros((0, self.keyframe_dim),
                                                                                    np.float32)
            self._send_motion(playing, last, end=True)

    def _send_motion(self, playing: _Playing, keyframes: np.ndarray, *, end: bool) -> None:
        if not keyframes.shape[0] and not end:
            return
        message = encode_animation(CONNECTION_ID, playing.conversation_id, keyframes, playing.keyframes, end)
        playing.keyframes += keyframes.shape[0]
        self.controller.yield_frames_data([message], playing.conversation_id)
