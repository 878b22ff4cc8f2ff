"""LiveKit audio frames → PCM16 mono at the engine's rate, and back."""

from __future__ import annotations

import numpy as np
from livekit import rtc

from engine.kit import AvatarError, ErrorCode


class MonoPcm16:
    """Turns ``rtc.AudioFrame``s of any rate and channel count into int16 mono at ``sample_rate``.

    Channels are averaged; another rate goes through LiveKit's own ``rtc.AudioResampler``, made
    once per input rate (a TTS keeps one rate per session, so this happens once).
    """

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self._resampler: rtc.AudioResampler | None = None
        self._resampler_rate = 0

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
        if frame.sample_rate == self.sample_rate:
            return samples.copy()
        if self._resampler is None or self._resampler_rate != frame.sample_rate:
            self._resampler = rtc.AudioResampler(frame.sample_rate, self.sample_rate, num_channels=1)
            self._resampler_rate = frame.sample_rate
        mono = rtc.AudioFrame(samples.tobytes(), frame.sample_rate, 1, samples.size)
        out = [np.frombuffer(f.data, dtype=np.int16) for f in self._resampler.push(mono)]
        return np.concatenate(out) if out else np.zeros(0, np.int16)

    def flush(self) -> np.ndarray:
        """The resampler's held tail at a segment end (empty when no resampling happens)."""
        if self._resampler is None:
            return np.zeros(0, np.int16)
        out = [np.frombuffer(f.data, dtype=np.int16) for f in self._resampler.flush()]
        self._resampler = None  # the next segment starts from a clean filter state
        self._resampler_rate = 0
        return np.concatenate(out) if out else np.zeros(0, np.int16)

    def reset(self) -> None:
        """Drop what the resampler holds (interrupt): the next segment must not start with the old tail."""
        self._resampler = None
        self._resampler_rate = 0


def to_audio_frame(samples: np.ndarray, sample_rate: int) -> rtc.AudioFrame:
    """float32 [-1, 1] device output → an int16 mono ``rtc.AudioFrame``."""
    pcm = np.clip(np.rint(samples * 32768.0), -32768, 32767).astype(np.int16)
    return rtc.AudioFrame(pcm.tobytes(), sample_rate, 1, pcm.size)
