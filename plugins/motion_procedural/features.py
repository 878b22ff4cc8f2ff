"""Spectral set-up for the procedural generator: the FFT of each 40 ms window and the band bins.

Only the window's own samples are used (no look-ahead), so a keyframe can be emitted the
moment its window has arrived. numpy's FFT runs here; the per-bin work is in kernel.py.
"""

from __future__ import annotations

import numpy as np

# Bands chosen for lip shape: low = voicing/open vowels, mid = first/second formants,
# high = fricatives and the bright /i/, /e/ vowels that spread the lips.
BANDS_HZ = ((80.0, 500.0), (500.0, 2000.0), (2000.0, 6000.0))


class Spectrum:
    """``__call__(frames (K, W) float32) -> complex (K, B)`` spectra, plus ``freqs`` and ``bands`` bin ranges."""

    def __init__(self, sample_rate: int, window: int) -> None:
        self.nfft = 1 << (window - 1).bit_length()
        self.taper = np.hanning(window).astype(np.float32)
        self.freqs = np.fft.rfftfreq(self.nfft, 1.0 / sample_rate)
        nyquist = sample_rate / 2
        self.bands = np.array([[np.searchsorted(self.freqs, lo), np.searchsorted(self.freqs, min(hi, nyquist))]
                               for lo, hi in BANDS_HZ], dtype=np.int64)

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        return np.fft.rfft(frames * self.taper, n=self.nfft, axis=1)
