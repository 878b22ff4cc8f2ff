"""Read any audio file PyAV can decode as PCM16 mono at a sample rate the protocol supports."""

from __future__ import annotations

import os

import numpy as np

from ..config import SAMPLE_RATES
from ..errors import AvatarError, ErrorCode

MAX_SECONDS = 600.0


def pick_rate(native: int) -> int:
    """Keep a supported rate; otherwise the next supported rate above it (48 kHz at most)."""
    if native in SAMPLE_RATES:
        return native
    higher = [r for r in SAMPLE_RATES if r > native]
    return higher[0] if higher else SAMPLE_RATES[-1]


def load_speech(path: str | os.PathLike, rate: int | None = None) -> tuple[np.ndarray, int]:
    """``(int16 samples, sample rate)``; mixed down to mono and resampled as needed."""
    import av

    try:
        container = av.open(os.fspath(path))
    except (OSError, av.FFmpegError) as exc:
        raise AvatarError(ErrorCode.noAudio, f"cannot read audio from {os.fspath(path)!r}: {exc}") from None
    with container:
        streams = container.streams.audio
        if not streams:
            raise AvatarError(ErrorCode.noAudio, f"{os.fspath(path)!r} has no audio stream")
        stream = streams[0]
        rate = rate or pick_rate(stream.codec_context.sample_rate or 16000)
        resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
        parts = []
        total = 0
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    parts.append(out.to_ndarray().reshape(-1))
                    total += parts[-1].size
                if total > MAX_SECONDS * rate:
                    raise AvatarError(ErrorCode.noAudio, f"{os.fspath(path)!r} is longer than {MAX_SECONDS:g} s")
            for out in resampler.resample(None):
                parts.append(out.to_ndarray().reshape(-1))
        except av.FFmpegError as exc:
            raise AvatarError(ErrorCode.noAudio, f"cannot decode {os.fspath(path)!r}: {exc}") from None
    pcm = np.concatenate(parts).astype(np.int16) if parts else np.zeros(0, np.int16)
    if pcm.size == 0:
        raise AvatarError(ErrorCode.noAudio, f"{os.fspath(path)!r} contains no audio samples")
    return pcm, rate
