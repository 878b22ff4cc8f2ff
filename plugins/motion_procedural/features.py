"""Per-keyframe audio features, vectorised over a batch of 40 ms windows (numpy FFT).

For each window: level in dBFS, the energy fractions of three speech bands and the
spectral centroid. Only the window's own samples are used (no look-ahead), so a
keyframe can be emitted the moment its window has arrived.
"""

from __future__ import annotations

import numpy as np

# Bands chosen for lip shape: low = voicing/open vowels, mid = first/second formants,
# high = fricatives and the bright /i/, /e/ vowels that spread the lips.
BANDS_HZ = ((80.0, 500.0), (500.0, 2000.0), (2000.0, 6000.0))


class FrameAnalyzer:
    """Turns ``float32 (K, window)`` windows (PCM scaled to [-1, 1]) into ``float32 (K, 5)`` features.

    Columns: level dBFS, low, mid, high band fractions, centroid in Hz.
    """

    def __init__(self, sample_rate: int, window: int) -> None:
        self.window = window
        self.nfft = 1 << (window - 1).bit_length()
        self.taper = np.hanning(window).astype(np.float32)
        freqs = np.fft.rfftfreq(self.nfft, 1.0 / sample_rate).astype(np.float32)
        self.freqs = freqs
        bands = np.zeros((freqs.size, len(BANDS_HZ)), np.float32)
        for j, (lo, hi) in enumerate(BANDS_HZ):
            bands[(freqs >= lo) & (freqs < min(hi, sample_rate / 2)), j] = 1.0
        self.bands = bands
        self.speech = ((freqs >= BANDS_HZ[0][0]) & (freqs < BANDS_HZ[-1][1])).astype(np.float32)

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        out = np.empty((frames.shape[0], 5), np.float32)
        rms = np.sqrt(np.mean(np.square(frames, dtype=np.float32), axis=1))
        out[:, 0] = 20.0 * np.log10(rms + 1e-9)
        spectrum = np.fft.rfft(frames * self.taper, n=self.nfft, axis=1)
        power = (spectrum.real ** 2 + spectrum.imag ** 2).astype(np.float32) * self.speech
        total = power.sum(axis=1) + 1e-12
        out[:, 1:4] = (power @ self.bands) / total[:, None]
        out[:, 4] = (power @ self.freqs) / total
        return out
