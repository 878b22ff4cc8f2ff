"""Log-mel frames of the audio, 2 per 40 ms keyframe window, in numba (streaming, causal).

Sub-frame m of a round is the ``ANALYSIS_S`` Hann window that *ends* at sample ``floor((m+1)·W/2)``
(W = one keyframe window), so the two sub-frames of keyframe window k are ready the moment
that window has arrived. Each sub-frame gives ``MEL_BANDS`` log-mel energies and the frame level,
in dB relative to a running peak level (fast up, slow down), so the classifier sees the shape of
the spectrum independently of the speaker's gain. The mel bands stop at 8 kHz whatever the rate.
"""

from __future__ import annotations

import functools
import math

import numba
import numpy as np

from plugins.motion_procedural.features import Spectrum, power_spectrum

SUBFRAMES = 2
MEL_BANDS = 24
FEATURES = MEL_BANDS + 1
ANALYSIS_S = 0.025
MEL_LO_HZ, MEL_HI_HZ = 60.0, 8000.0
PEAK_INIT_DB = -25.0
PEAK_MIN_DB = -60.0  # the reference never follows silence below this
PEAK_DECAY_DB = 5.0 / (25 * SUBFRAMES)  # per sub-frame: 5 dB/s
RANGE_DB = 80.0  # features below peak - RANGE_DB are clipped
SCALE_DB = 20.0


def _mel(f):
    return 2595.0 * np.log10(1.0 + f / 700.0)


@functools.lru_cache(maxsize=16)
def mel_matrix(sample_rate: int, nfft: int) -> np.ndarray:
    """``(MEL_BANDS, nfft//2 + 1)`` triangular filters, equal area, up to min(8 kHz, Nyquist)."""
    freqs = np.fft.rfftfreq(nfft, 1.0 / sample_rate)
    edges = 700.0 * (10 ** (np.linspace(_mel(MEL_LO_HZ), _mel(MEL_HI_HZ), MEL_BANDS + 2) / 2595.0) - 1.0)
    m = np.zeros((MEL_BANDS, freqs.size))
    for b in range(MEL_BANDS):
        lo, mid, hi = edges[b], edges[b + 1], edges[b + 2]
        up = (freqs - lo) / (mid - lo)
        down = (hi - freqs) / (hi - mid)
        m[b] = np.clip(np.minimum(up, down), 0.0, None) * 2.0 / (hi - lo)
    m.setflags(write=False)  # shared by every session at this rate
    return m


class FrameAnalyser:
    """Tables for :func:`analyse_windows`: window length, sub-frame ends, FFT tables, mel filters."""

    def __init__(self, sample_rate: int) -> None:
        self.window = sample_rate // 25
        self.length = int(round(ANALYSIS_S * sample_rate))
        self.ends = np.array([(q + 1) * self.window // SUBFRAMES for q in range(SUBFRAMES)], np.int64)
        self._spectrum = Spectrum(sample_rate, self.length)
        self.fft = self._spectrum.tables()
        self.mel = mel_matrix(sample_rate, self._spectrum.nfft)
        nonzero = self.mel > 0  # each filter touches a short run of bins: loop over that run only
        self.mel_lo = nonzero.argmax(axis=1).astype(np.int64)
        self.mel_hi = (self.mel.shape[1] - nonzero[:, ::-1].argmax(axis=1)).astype(np.int64)
        self.norm = 1.0 / (self.length * float(np.sum(self._spectrum.taper ** 2)) / self.length)


@numba.njit(cache=True, nogil=True)
def analyse_window(frame_in, buf, length, ends, taper, twiddle_re, twiddle_im, bitrev, post_re, post_im, re, im,
                   power, mel, mel_lo, mel_hi, norm, peak, ring, first):
    """Features of one window ``frame_in (W,)`` into ``ring`` rows ``(first + q) % len(ring)``.

    ``buf`` (``length + W``) carries the ``length`` samples before the window from call to call;
    ``peak`` (1,) is the running reference level in dB, updated in place.
    """
    w = frame_in.shape[0]
    bands = mel.shape[0]
    rows = ring.shape[0]
    for s in range(length):
        buf[s] = buf[s + w]
    for s in range(w):
        buf[length + s] = frame_in[s]
    for q in range(ends.shape[0]):
        end = length + ends[q]
        frame = buf[end - length:end]
        power_spectrum(frame, taper, twiddle_re, twiddle_im, bitrev, post_re, post_im, re, im, power)
        total = 0.0
        for s in range(length):
            total += frame[s] * frame[s]
        level = 10.0 * math.log10(total / length + 1e-12)
        p = max(peak[0] - PEAK_DECAY_DB, level, PEAK_MIN_DB)
        peak[0] = p
        floor = p - RANGE_DB
        row = (first + q) % rows
        for b in range(bands):
            acc = 0.0
            for i in range(mel_lo[b], mel_hi[b]):
                acc += mel[b, i] * power[i]
            db = 10.0 * math.log10(acc * norm + 1e-12)
            ring[row, b] = (max(db, floor) - p) / SCALE_DB
        ring[row, bands] = (max(level, floor) - p) / SCALE_DB


@numba.njit(cache=True, nogil=True)
def analyse_windows(frames, buf, length, ends, taper, twiddle_re, twiddle_im, bitrev, post_re, post_im, re, im,
                    power, mel, mel_lo, mel_hi, norm, peak, ring, first):
    """:func:`analyse_window` for every window of ``frames (K, W)``, sub-frames from ring row ``first`` on."""
    for k in range(frames.shape[0]):
        analyse_window(frames[k], buf, length, ends, taper, twiddle_re, twiddle_im, bitrev, post_re, post_im, re, im,
                       power, mel, mel_lo, mel_hi, norm, peak, ring, first + k * ends.shape[0])
