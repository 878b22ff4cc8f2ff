"""Write rendered RGBA frames and the audio that played with them into a video file (PyAV)."""

from __future__ import annotations

import os

import numpy as np

from ..errors import AvatarError, ErrorCode

BACKGROUND = np.array([28, 30, 38], np.float32)  # composited under the avatar's transparent pixels


def pick_video_codec() -> str:
    import av

    return "libx264" if "libx264" in av.codecs_available else "mpeg4"


class VideoWriter:
    """``add_frame(rgba)`` at ``fps`` and ``add_audio(float32 mono)`` at ``sample_rate``; ``close()`` finishes the file."""

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

    def add_frame(self, rgba: np.ndarray) -> None:
        import av

        alpha = rgba[..., 3:4].astype(np.float32) * (1.0 / 255.0)
        rgb = rgba[..., :3].astype(np.float32) * alpha + BACKGROUND * (1.0 - alpha)
        frame = av.VideoFrame.from_ndarray(np.clip(rgb + 0.5, 0, 255).astype(np.uint8), format="rgb24")
        frame.pts = self.frames
        self.frames += 1
        for packet in self._video.encode(frame):
            self._out.mux(packet)

    def add_audio(self, samples: np.ndarray) -> None:
        """Mono float32 samples in [-1, 1], in order; re-chunked to the encoder's frame size."""
        import av

        if samples.size == 0:
            return
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples, np.float32).reshape(1, -1),
                                           format="fltp", layout="mono")
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
        if self._closed:
            return
        self._closed = True
        try:
            self._drain(final=True)
            for stream in (self._video, self._audio):
                for packet in stream.encode(None):
                    self._out.mux(packet)
        finally:
            self._out.close()
