"""Offline rendering: the audio clock is a virtual sink advanced frame by frame, so the video is exact.

Video frame j shows the avatar at audio stream position ``j * sample_rate / fps``. Strict sync
makes the controller hold the audio while motion is missing; the loop then waits for motion
instead of recording the held (silent) device output, so the file has no gaps and every frame
matches its audio sample for sample. Nothing here depends on how fast rendering is.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import attrs
import numpy as np

from ..enums import ConversationState, FrameStarvationMode
from ..errors import AvatarError, ErrorCode

MOTION_WAIT_S = 15.0  # the seed's connection deadline: longer without motion means the stack is broken
FIRST_MOTION_WAIT_S = 120.0  # before any audio played: a cold numba cache compiles decoder and generator
FIRST_FRAME_TIMEOUT_S = 180.0  # a cold numba cache compiles the render kernels on the first frame
FRAME_TIMEOUT_S = 30.0
TAIL_S = 0.4  # idle after the speech, so the mouth closes before the video ends


def frame_count(samples: int, sample_rate: int, fps: int, tail_s: float = TAIL_S) -> int:
    """How many frames :func:`render_offline` makes for ``samples`` of speech: frame j shows j/fps s."""
    total = samples + int(tail_s * sample_rate)
    last = -(-total * fps // sample_rate)  # the first frame whose stream position reaches the end, roughly
    while last > 0 and round((last - 1) * sample_rate / fps) >= total:
        last -= 1
    while round(last * sample_rate / fps) < total:
        last += 1
    return last + 1


@attrs.frozen
class OfflineResult:
    frames: int
    audio_samples: int
    seconds: float
    render_seconds: float


async def render_offline(view, pcm: np.ndarray, sample_rate: int, *, fps: int, on_frame: Callable | None = None,
                         tail_s: float = TAIL_S) -> OfflineResult:
    """Play ``pcm`` through ``view.controller`` (direct mode) and call ``on_frame(index, rgba, audio)`` per frame.

    ``audio`` is the float32 audio that played since the previous frame. ``tail_s`` of idle after
    the speech lets the mouth close before the video ends.
    """
    from ..render.containers import Offscreen

    if not isinstance(view.container, Offscreen):
        raise AvatarError(ErrorCode.playbackInitFailed, "offline rendering needs an Offscreen view")
    controller = view.controller
    controller.set_audio_sink("virtual")  # not real time: this loop owns the clock
    controller.frame_starvation_mode = FrameStarvationMode.strictSync
    await controller.initialize_audio_context()
    await controller.start()
    sink = controller.audio_sink
    controller.send(pcm, end=True)
    total = pcm.size + int(tail_s * sample_rate)
    started = time.perf_counter()
    frame = 0
    played = 0
    while True:
        target = min(total, int(round(frame * sample_rate / fps)))
        chunks = []
        waited_since = None
        while played < target:
            before = sink.position()
            out = sink.advance(target - played)
            got = sink.position() - before
            if got > 0:
                chunks.append(out[:got].copy())
                played += got
                waited_since = None
                continue
            if before >= pcm.size:  # the speech is over: the rest is real silence
                chunks.append(np.zeros(target - played, np.float32))
                played = target
                break
            waited_since = waited_since or time.perf_counter()
            limit = FIRST_MOTION_WAIT_S if before == 0 else MOTION_WAIT_S
            if time.perf_counter() - waited_since > limit:
                raise AvatarError(ErrorCode.serverError,
                                  f"no motion for {limit:g} s at {before / sample_rate:.2f} s of audio")
            await asyncio.sleep(0.002)  # let the transport deliver motion
        rgba = await asyncio.to_thread(view.render_frame, FIRST_FRAME_TIMEOUT_S if frame == 0 else FRAME_TIMEOUT_S)
        if on_frame is not None:
            on_frame(frame, rgba, np.concatenate(chunks) if chunks else np.zeros(0, np.float32))
        frame += 1
        if played >= total:
            break
    if controller.conversation_state == ConversationState.playing:
        controller.interrupt()
    await controller.close()
    return OfflineResult(frame, played, played / sample_rate, time.perf_counter() - started)


@attrs.frozen
class VideoFile:
    result: OfflineResult
    seconds: float  # from the first frame to the file closed, the encoder's wait included
    backend: str
    codec: str


async def render_to_file(avatar, pcm: np.ndarray, sample_rate: int, output, *, size: int, fps: int,
                         backend: str | None = None, on_frame: Callable[[int], None] | None = None) -> VideoFile:
    """Speak ``pcm`` with ``avatar`` (direct mode) into a ``size``² video file at ``output`` (H.264 + AAC), drawn
    over the demo background on ``backend`` (None: the automatic choice); ``on_frame(frames done)`` per frame."""
    from ..render.containers import Offscreen
    from ..render.view import AvatarView
    from .video import VideoWriter, use_demo_background

    view = AvatarView(avatar, Offscreen(size, size), backend=backend)
    use_demo_background(view)
    writer = VideoWriter(output, size, size, fps, sample_rate)

    def add(index, rgba, audio):
        writer.add_audio(audio)
        writer.add_frame(rgba)
        if on_frame is not None:
            on_frame(index + 1)

    started = time.perf_counter()
    try:
        result = await render_offline(view, pcm, sample_rate, fps=fps, on_frame=add)
        writer.close()  # waits for the encoder: part of the time to make the video
    finally:
        writer.close()
        view.dispose()
    return VideoFile(result, time.perf_counter() - started, view.backend, writer.codec)
