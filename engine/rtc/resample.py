"""Mono PCM16 rate conversion in a stream (libswresample through PyAV), with an exact flush at the end."""

from __future__ import annotations

import av
import numpy as np

_EMPTY = np.zeros(0, dtype=np.int16)


class MonoResampler:
    """``feed(pcm) -> pcm`` from ``src_rate`` to ``dst_rate``; ``flush()`` returns what the filter still holds.

    With equal rates it passes samples through untouched (no filter delay).
    """

    def __init__(self, src_rate: int, dst_rate: int) -> None:
        self.src_rate = src_rate
        self._resampler = None if src_rate == dst_rate else av.AudioResampler(format="s16", layout="mono",
                                                                                 rate=dst_rate)

    def feed(self, pcm: np.ndarray) -> np.ndarray:
        if self._resampler is None:
            return np.ascontiguousarray(pcm, dtype=np.int16)
        if not len(pcm):
            return _EMPTY
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm, dtype=np.int16).reshape(1, -1),
                                           format="s16", layout="mono")
        frame.sample_rate = self.src_rate
        return _join(self._resampler.resample(frame))

    def flush(self) -> np.ndarray:
        return _EMPTY if self._resampler is None else _join(self._resampler.resample(None))


def _join(frames) -> np.ndarray:
    if not frames:
        return _EMPTY
    return np.concatenate([f.to_ndarray().reshape(-1) for f in frames]).astype(np.int16, copy=False)
