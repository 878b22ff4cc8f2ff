"""The spectrum of each 40 ms window: a radix-2 FFT in numba, and the bins of the three speech bands.

Only the window's own samples are used (no look-ahead), so a keyframe can be emitted the
moment its window has arrived. numpy's FFT gives the same numbers (the tests compare them) but
needs separate calls (taper, FFT, magnitude) per window; this one runs inside the motion kernel.
"""

from __future__ import annotations

import functools

import numba
import numpy as np

# Bands chosen for lip shape: low = voicing/open vowels, mid = first/second formants,
# high = fricatives and the bright /i/, /e/ vowels that spread the lips.
BANDS_HZ = ((80.0, 500.0), (500.0, 2000.0), (2000.0, 6000.0))


@functools.lru_cache(maxsize=32)
def _tables(sample_rate: int, window: int) -> tuple:
    """The read-only tables of one (rate, window): shared by every session, so 100 sessions touch one
    copy (~20 KB at 16 kHz) instead of a hundred that push each other out of the CPU caches."""
    n = 1 << (window - 1).bit_length()
    m = n // 2
    taper = np.hanning(window).astype(np.float64)
    k = np.arange(m // 2)
    twiddle_re = np.cos(-2 * np.pi * k / m)
    twiddle_im = np.sin(-2 * np.pi * k / m)
    bits = m.bit_length() - 1
    bitrev = np.array([int(format(i, f"0{bits}b")[::-1], 2) if bits else 0 for i in range(m)], dtype=np.int64)
    k = np.arange(m + 1)
    post_re = np.cos(-2 * np.pi * k / n)
    post_im = np.sin(-2 * np.pi * k / n)
    freqs = np.fft.rfftfreq(n, 1.0 / sample_rate)
    nyquist = sample_rate / 2
    bands = np.array([[np.searchsorted(freqs, lo), np.searchsorted(freqs, min(hi, nyquist))]
                      for lo, hi in BANDS_HZ], dtype=np.int64)
    out = (taper, twiddle_re, twiddle_im, bitrev, post_re, post_im, freqs, bands)
    for a in out:
        a.setflags(write=False)
    return out


class Spectrum:
    """Tables and scratch space for :func:`power_spectrum` of ``window``-sample frames (Hann taper, zero-padded).

    The n-point real FFT is computed as an n/2-point complex FFT of the even/odd samples packed
    as real/imaginary parts, then untangled (the standard real-input trick: half the work).
    The tables are shared per (rate, window); the scratch (``re``, ``im``, ``power``) is this instance's.
    """

    def __init__(self, sample_rate: int, window: int) -> None:
        self.nfft = n = 1 << (window - 1).bit_length()
        (self.taper, self.twiddle_re, self.twiddle_im, self.bitrev, self.post_re, self.post_im, self.freqs,
         self.bands) = _tables(sample_rate, window)
        self.re = np.zeros(n // 2)
        self.im = np.zeros(n // 2)
        self.power = np.zeros(n // 2 + 1)

    def tables(self) -> tuple:
        return (self.taper, self.twiddle_re, self.twiddle_im, self.bitrev, self.post_re, self.post_im,
                self.re, self.im, self.power)


@numba.njit(cache=True, nogil=True)
def power_spectrum(frame, taper, twiddle_re, twiddle_im, bitrev, post_re, post_im, re, im, power):
    """``power[k] = |rfft(frame * taper, n)[k]|²`` for k in 0..n/2 (``re``/``im`` are scratch)."""
    m = re.shape[0]
    re[:] = 0.0
    im[:] = 0.0
    for i in range(frame.shape[0]):  # z[j] = x[2j] + i x[2j+1], stored in bit-reversed order
        j = bitrev[i >> 1]
        if i & 1:
            im[j] = frame[i] * taper[i]
        else:
            re[j] = frame[i] * taper[i]
    size = 2
    while size <= m:  # iterative radix-2 butterflies of the m-point complex FFT
        half = size // 2
        step = m // size
        for start in range(0, m, size):
            for k in range(half):
                tr = twiddle_re[k * step]
                ti = twiddle_im[k * step]
                a = start + k
                b = a + half
                xr = re[b] * tr - im[b] * ti
                xi = re[b] * ti + im[b] * tr
                re[b] = re[a] - xr
                im[b] = im[a] - xi
                re[a] += xr
                im[a] += xi
        size *= 2
    for k in range(m + 1):  # X[k] = E[k] + W^k O[k], E/O the spectra of the even/odd samples
        a = k % m
        b = (m - k) % m
        zr, zi = re[a], im[a]
        cr, ci = re[b], -im[b]
        er, ei = 0.5 * (zr + cr), 0.5 * (zi + ci)
        odd_r, odd_i = 0.5 * (zi - ci), -0.5 * (zr - cr)
        xr = er + post_re[k] * odd_r - post_im[k] * odd_i
        xi = ei + post_re[k] * odd_i + post_im[k] * odd_r
        power[k] = xr * xr + xi * xi
