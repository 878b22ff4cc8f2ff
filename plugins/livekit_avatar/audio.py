"""LiveKit audio frames → PCM16 mono at the engine's rate."""

from __future__ import annotations

import numpy as np
from livekit import rtc

from engine.kit import AvatarError, ErrorCode, MonoResampler


class MonoPcm16:
    """Turns ``rtc.AudioFrame``s of any rate and channel count into int16 mono at ``sample_rate``.

    Channels are averaged; another rate goes through the engine's ``MonoResampler``, made once
    per input rate (a TTS keeps one rate per session, so this happens once).
    """

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self._resampler: MonoResampler | None = None

    def convert(self, frame: rtc.AudioFrame) -> np.ndarray:
        if not isinstance(frame, rtc.AudioFrame):
            raise AvatarError(ErrorCode.playbackStartFailed,
                              f"push_audio takes rtc.AudioFrame or AudioSegmentEnd, not {type(frame).__name__}")
        channels = frame.num_channels
        if channels < 1 or frame.sample_rate <= 0:
            raise AvatarError(ErrorCode.playbackStartFailed,
                              f"audio frame with {channels} channels at {frame.sample_rate} Hz cannot be played")
        samples = np.frombuffer(frame.data, dtype=np.int16)
        if channels > 1:
            samples = samples.reshape(-1, channels).mean(axis=1).astype(np.int16)
        if self._resampler is None or self._resampler.src_rate != frame.sample_rate:
            self._resampler = MonoResampler(frame.sample_rate, self.sample_rate)
        return self._resampler.feed(samples)

    def flush(self) -> np.ndarray:
        """The resampler's held tail at a segment end; the next segment starts from a clean filter."""
        resampler, self._resampler = self._resampler, None
        return resampler.flush() if resampler is not None else np.zeros(0, np.int16)

    def reset(self) -> None:
        """Drop what the resampler holds (interrupt): the next segment must not start with the old tail."""
        self._resampler = None
