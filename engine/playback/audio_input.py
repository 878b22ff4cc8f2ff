"""Checks what the app passes with its audio: PCM16 little-endian mono chunks → int16 samples, the volume."""

from __future__ import annotations

import math

import numpy as np

from ..errors import AvatarError, ErrorCode


def to_pcm16(data, end, what: str) -> np.ndarray:
    """An owned int16 copy of ``data``; ``AvatarError(playbackStartFailed)`` saying what is wrong."""
    if not isinstance(end, bool):
        raise AvatarError(ErrorCode.playbackStartFailed, f"{what}: end must be True or False, not {end!r}")
    if isinstance(data, np.ndarray):
        if data.dtype != np.int16 or data.ndim != 1:
            raise AvatarError(ErrorCode.playbackStartFailed,
                              f"{what}: a numpy chunk must be 1-D int16 (PCM16 mono), not {data.dtype} {data.shape}")
        return data.astype(np.int16, copy=True)
    if isinstance(data, memoryview):
        data = data.tobytes()
    if not isinstance(data, (bytes, bytearray)):
        raise AvatarError(ErrorCode.playbackStartFailed,
                          f"{what} takes PCM16 mono audio as bytes, not {type(data).__name__}")
    if len(data) % 2:
        raise AvatarError(ErrorCode.playbackStartFailed,
                          f"{what}: {len(data)} bytes is an odd count, but PCM16 has 2 bytes per sample; "
                          "split chunks on even byte boundaries")
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        raise AvatarError(ErrorCode.playbackStartFailed,
                          f"{what} got a WAV file; pass the raw PCM16 samples (drop the header) and make sure "
                          "they are mono at the SDK's audio_format.sample_rate")
    return np.frombuffer(bytes(data), dtype="<i2").astype(np.int16)


def check_volume(volume) -> None:
    """``AvatarError(playbackStartFailed)`` unless ``volume`` is a number in 0.0..1.0."""
    if isinstance(volume, bool) or not isinstance(volume, (int, float)) or not math.isfinite(volume) \
            or not 0.0 <= volume <= 1.0:
        raise AvatarError(ErrorCode.playbackStartFailed, f"volume must be a number in 0.0..1.0, not {volume!r}")
