"""Write rendered RGBA frames and the audio that played with them into a video file (PyAV).

Encoding runs on a thread of its own behind a short queue, so the next frame renders while this one
encodes (numba's kernels and FFmpeg's encoders both run without the GIL).
"""

from __future__ import annotations

import os
import queue
import threading

import numpy as np

from ..errors import AvatarError, ErrorCode

BACKGROUND = np.array([28, 30, 38], np.float32)  # what the demo draws behind the avatar, window and video alike
QUEUE_FRAMES = 8  # frames in flight between the renderer and the encoder (bounded: ~8 MB at 512²)


def use_demo_background(view) -> None:
    """Draw ``view`` over :data:`BACKGROUND`, so a window and a video of the demo look the same."""
    # AvatarView has no public background (the SDK it mirrors draws over a transparent page); the render
    # loop's state does, and engine code may use it.
    view._render.update(background=tuple(float(c) / 255.0 for c in BACKGROUND))


def pick_video_codec() -> str:
    import av

    return "libx264" if "libx264" in av.codecs_available else "mpeg4"


class VideoWriter:
    """``add_frame(rgba)`` at ``fps`` and ``add_audio(float32 mono)`` at ``sample_rate``; ``close()`` finishes the file.

    Frames are taken as renderers give them, drawn over the background (:data:`BACKGROUND` in the demo):
    their RGB is the picture and alpha is ignored. The writer keeps the arrays it is given until they are
    encoded, so pass ones that are not overwritten (``render_frame`` returns a copy). An encoder failure
    is raised by the next call.
    """

    def __init__(self, path: str | os.PathLike, width: int, height: int, fps: int, sample_rate: int) -> None:
        import av

        if width % 2 or height % 2:
            raise AvatarError(ErrorCode.playbackInitFailed, f"video size must be even, not {width}x{height}")
        self.path = os.fspath(path)
        try:
            self._out = av.open(self.path, "w")
        except (OSError, av.FFmpegError) as exc:
            raise AvatarError(ErrorCode.playbackInitFailed, f"cannot write {self.path!r}: {exc}") from None
        self.codec = pick_video_codec()
        self._video = self._out.add_stream(self.codec, rate=fps)
        self._video.width, self._video.height = width, height
        self._video.pix_fmt = "yuv420p"
        if self.codec == "libx264":
            self._video.options = {"crf": "20", "preset": "veryfast"}
        else:
            self._video.bit_rate = 2_000_000
        self._audio = self._out.add_stream("aac", rate=sample_rate)
        self._audio.layout = "mono"
        self._fifo = av.AudioFifo()
        self._sample_rate = sample_rate
        self._audio_samples = 0
        self.frames = 0
        self._closed = False
        self._error: BaseException | None = None
        self._queue: queue.Queue = queue.Queue(QUEUE_FRAMES)
        self._thread = threading.Thread(target=self._encode_loop, name="facecast-video-encode", daemon=True)
        self._thread.start()

    def add_frame(self, rgba: np.ndarray) -> None:
        if np.shape(rgba) != (self._video.height, self._video.width, 4) or rgba.dtype != np.uint8:
            raise AvatarError(ErrorCode.playbackInitFailed, f"video frames must be uint8 RGBA of "
                              f"{self._video.height}×{self._video.width}, not {rgba.dtype} {np.shape(rgba)}")
        self._put(self._encode_frame, rgba)

    def add_audio(self, samples: np.ndarray) -> None:
        """Mono float32 samples in [-1, 1], in order; re-chunked to the encoder's frame size."""
        if samples.size:
            self._put(self._encode_audio, np.array(samples, np.float32, copy=True).reshape(-1))

    def _put(self, job, data) -> None:
        if self._closed:
            raise AvatarError(ErrorCode.playbackInitFailed, f"the video writer for {self.path!r} is closed")
        self._raise_error()
        self._queue.put((job, data))

    def _raise_error(self) -> None:
        if self._error is not None:
            raise AvatarError(ErrorCode.playbackInitFailed, f"encoding {self.path!r} failed: {self._error}")

    def _encode_loop(self) -> None:
        while True:
            job, data = self._queue.get()
            if job is None:
                return
            if self._error is None:  # after a failure, drain (so producers never block) but encode nothing
                try:
                    job(data)
                except Exception as exc:  # reported to the producer by its next call or by close()
                    self._error = exc

    def _encode_frame(self, rgba: np.ndarray) -> None:
        import av

        frame = av.VideoFrame.from_ndarray(rgba, format="rgba")
        frame.pts = self.frames
        self.frames += 1
        for packet in self._video.encode(frame):
            self._out.mux(packet)

    def _encode_audio(self, samples: np.ndarray) -> None:
        import av

        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="fltp", layout="mono")
        frame.sample_rate = self._sample_rate
        frame.pts = self._audio_samples
        self._audio_samples += samples.size
        self._fifo.write(frame)
        self._drain(final=False)

    def _drain(self, final: bool) -> None:
        size = self._audio.codec_context.frame_size or 1024
        while self._fifo.samples >= size or (final and self._fifo.samples):
            frame = self._fifo.read(min(size, self._fifo.samples) if final else size)
            for packet in self._audio.encode(frame):
                self._out.mux(packet)

    def close(self) -> None:
        """Encode what is queued, flush the encoders and close the file; raises if encoding failed."""
        if self._closed:
            return
        self._closed = True
        self._queue.put((None, None))
        self._thread.join()
        try:
            if self._error is None:
                self._drain(final=True)
                for stream in (self._video, self._audio):
                    for packet in stream.encode(None):
                        self._out.mux(packet)
        finally:
            self._out.close()
        self._raise_error()
