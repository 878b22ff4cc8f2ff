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
    """``power[k] = |rfft(frame * taper, n)[k]|²`` for k in 0..n/2 (``re``/``im`` are scratch).

    Radix-2 decimation in time; two consecutive stages run in one pass over the data (each group
    of four points is closed under both), which halves the loads and stores and gives exactly the
    numbers of one stage at a time.
    """
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
    stages = 0
    while (1 << stages) < m:
        stages += 1
    if stages % 2 == 1:  # an odd count: one plain stage (size 2) first, then the rest in pairs
        tr = twiddle_re[0]
        ti = twiddle_im[0]
        for a in range(0, m, 2):
            b = a + 1
            xr = re[b] * tr - im[b] * ti
            xi = re[b] * ti + im[b] * tr
            re[b] = re[a] - xr
            im[b] = im[a] - xi
            re[a] += xr
            im[a] += xi
        size = 4
    while size <= m:
        # stages of size S and 2S in one pass: each group {p, p+H, p+S, p+S+H} is closed under both
        h = size // 2
        s2 = size * 2
        step1 = m // size
        step2 = m // s2
        for start in range(0, m, s2):
            for k in range(h):
                t1r = twiddle_re[k * step1]
                t1i = twiddle_im[k * step1]
                ua = twiddle_re[k * step2]
                ub = twiddle_im[k * step2]
                va = twiddle_re[(k + h) * step2]
                vb = twiddle_im[(k + h) * step2]
                p0 = start + k
                p1 = p0 + h
                p2 = p0 + size
                p3 = p2 + h
                a0r = re[p0]; a0i = im[p0]; a1r = re[p1]; a1i = im[p1]
                a2r = re[p2]; a2i = im[p2]; a3r = re[p3]; a3i = im[p3]
                # stage S: (p0, p1), (p2, p3) with twiddle t1
                xr = a1r * t1r - a1i * t1i
                xi = a1r * t1i + a1i * t1r
                a1r = a0r - xr; a1i = a0i - xi
                a0r += xr; a0i += xi
                xr = a3r * t1r - a3i * t1i
                xi = a3r * t1i + a3i * t1r
                a3r = a2r - xr; a3i = a2i - xi
                a2r += xr; a2i += xi
                # stage 2S: (p0, p2) with u, (p1, p3) with v
                xr = a2r * ua - a2i * ub
                xi = a2r * ub + a2i * ua
                re[p2] = a0r - xr; im[p2] = a0i - xi
                re[p0] = a0r + xr; im[p0] = a0i + xi
                xr = a3r * va - a3i * vb
                xi = a3r * vb + a3i * va
                re[p3] = a1r - xr; im[p3] = a1i - xi
                re[p1] = a1r + xr; im[p1] = a1i + xi
        size *= 4
    for k in range(m + 1):  # X[k] = E[k] + W^k O[k], E/O the spectra of the even/odd samples
        a = k if k < m else 0
        b = m - k if k > 0 else 0
        zr, zi = re[a], im[a]
        cr, ci = re[b], -im[b]
        er, ei = 0.5 * (zr + cr), 0.5 * (zi + ci)
        odd_r, odd_i = 0.5 * (zi - ci), -0.5 * (zr - cr)
        xr = er + post_re[k] * odd_r - post_im[k] * odd_i
        xi = ei + post_re[k] * odd_i + post_im[k] * odd_r
        power[k] = xr * xr + xi * xi
