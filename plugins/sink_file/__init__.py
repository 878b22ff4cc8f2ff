"""The ``file`` audio sink: a virtual device that writes every sample it outputs to a WAV file.

The WAV holds exactly the device timeline — speech, and the silence between and around it —
so frames rendered at the sink's clock line up with the audio when muxed (offline rendering).
"""

from __future__ import annotations

import os
import wave

import numpy as np

import engine
from engine.kit import DEFAULT_CAPACITY_S, SimulatedSink


class FileSink(SimulatedSink):
    """Writes PCM16 mono at ``sample_rate`` to ``path``; advanced like the virtual sink."""

    def __init__(self, sample_rate: int, *, path: str | os.PathLike, real_time: bool = False,
                 capacity_s: float = DEFAULT_CAPACITY_S, block: int | None = None) -> None:
        super().__init__(sample_rate, real_time=real_time, capacity_s=capacity_s, block=block)
        try:
            self._file = open(os.fspath(path), "wb")  # opened here so a bad path fails before wave is involved
        except OSError as exc:
            raise engine.AvatarError(engine.ErrorCode.playbackInitFailed,
                                     f"file sink cannot open {os.fspath(path)!r} for writing: {exc}") from None
        self._wav = wave.open(self._file, "wb")
        self._wav.setnchannels(1)
        self._wav.setsampwidth(2)
        self._wav.setframerate(sample_rate)
        self.path = os.fspath(path)
        self._pcm = np.zeros(self._out.shape[0], dtype=np.int16)
        self._scaled = np.zeros(self._out.shape[0], dtype=np.float32)
        self.frames_written = 0

    def _emit(self, out: np.ndarray) -> None:
        n = out.shape[0]
        if n > self._pcm.shape[0]:
            self._pcm = np.zeros(n, dtype=np.int16)
            self._scaled = np.zeros(n, dtype=np.float32)
        pcm, scaled = self._pcm[:n], self._scaled[:n]
        # Volume is already applied; back to PCM16, clipping at full scale.
        np.multiply(out, 32768.0, out=scaled)
        np.rint(scaled, out=scaled)
        np.clip(scaled, -32768, 32767, out=scaled)
        pcm[:] = scaled
        self._wav.writeframes(pcm.astype("<i2", copy=False).tobytes())
        self.frames_written += n

    def _close_device(self) -> None:
        super()._close_device()
        self._wav.close()
        self._file.close()


def make_file_sink(sample_rate: int, **options) -> FileSink:
    if "path" not in options:
        raise engine.AvatarError(engine.ErrorCode.playbackInitFailed,
                                 "the file sink needs path=...: where to write the WAV")
    return FileSink(sample_rate, **options)


@engine.hookimpl
def register_audio_sinks(register):
    register("file", make_file_sink)
