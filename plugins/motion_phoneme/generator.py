"""The ``phoneme`` motion generator: sound classes from the audio itself → jaw and lip shapes at 25 fps."""

from __future__ import annotations

import numba
import numpy as np

from engine.kit import MOUTH_SHAPES, SAMPLE_RATES, layout
from plugins.motion_procedural import ProceduralMotionGenerator
from plugins.motion_procedural.kernel import window_keyframe

from .features import (FEATURES, PEAK_INIT_DB, RANGE_DB, SCALE_DB, SUBFRAMES, FrameAnalyser, analyse_window,
                       analyse_windows)
from .model import CONTEXT, LOOKAHEAD_WINDOWS, OUTPUTS, PAST, Weights, infer, load_weights
from .shapes import POSTURES, mouth_targets, smooth_step

SILENT_FEATURE = -RANGE_DB / SCALE_DB
RING = 16  # sub-frames kept: a keyframe's context (6 windows) and the window being analysed
assert RING >= CONTEXT + SUBFRAMES
_NO_AUDIO = np.zeros(0, np.int16)

_weights: Weights | None = None


def shared_weights() -> Weights:
    """The packaged weights, read once per process (every session shares them, read-only)."""
    global _weights
    if _weights is None:
        _weights = load_weights()
    return _weights


class FeatureStream:
    """The round's audio → log-mel sub-frames in a ring, whole keyframe windows at a time (training uses it too)."""

    def __init__(self, sample_rate: int) -> None:
        self.analyser = a = FrameAnalyser(sample_rate)
        self.window = a.window
        self.buffer = np.zeros(a.length + a.window, np.float64)
        self.tables = (a.length, a.ends) + tuple(a.fft) + (a.mel, a.mel_lo, a.mel_hi, a.norm)
        self.peak = np.array([PEAK_INIT_DB])  # session-long: the speaker's level carries over between rounds
        self.ring = np.full((RING, FEATURES), SILENT_FEATURE, np.float64)
        self.windows = 0  # windows analysed this round

    def reset_round(self) -> None:
        self.buffer[:] = 0.0
        self.ring[:] = SILENT_FEATURE
        self.windows = 0

    def push(self, frames: np.ndarray) -> None:
        """Analyse whole windows ``frames (K, window)`` of float64 samples in [-1, 1]."""
        analyse_windows(frames, self.buffer, *self.tables, self.peak, self.ring, self.windows * SUBFRAMES)
        self.windows += frames.shape[0]


@numba.njit(cache=True, nogil=True)
def _mouth(ring, keyframe, mean, scale, w1, b1, w2, b2, x, hidden, outputs, postures, target, state, mouth, row):
    """Jaw and mouth of ``keyframe`` from its context in ``ring``, written into the head keyframe ``row``."""
    rows, feats = ring.shape
    start = keyframe * SUBFRAMES - PAST
    for j in range(CONTEXT):
        m = start + j
        for f in range(feats):
            x[j * feats + f] = ring[m % rows, f] if m >= 0 else SILENT_FEATURE
    infer(x, mean, scale, w1, b1, w2, b2, hidden, outputs)
    row[layout.JAW.start] = smooth_step(state, mouth_targets(outputs, postures, target), target)
    shapes, expressions = mouth.shape
    for e in range(expressions):
        acc = 0.0
        used = False
        for s in range(shapes):
            if mouth[s, e] != 0.0:
                acc += state[1 + s] * mouth[s, e]
                used = True
        if used:  # shapes this avatar realises replace the head generator's loudness-driven mouth
            row[layout.EXPRESSION_OFFSET + e] = acc


@numba.njit(cache=True, nogil=True)
def _emit(limit, windows, emitted, held, ring, mean, scale, w1, b1, w2, b2, x, hidden, outputs, postures, target,
          state, mouth, out, done):
    """Emit the held head keyframes (numbers below ``limit``) whose look-ahead is analysed, mouths filled in."""
    while emitted < limit and emitted + 1 + LOOKAHEAD_WINDOWS <= windows and done < out.shape[0]:
        out[done] = held[emitted % held.shape[0]]
        _mouth(ring, emitted, mean, scale, w1, b1, w2, b2, x, hidden, outputs, postures, target, state, mouth,
               out[done])
        emitted += 1
        done += 1
    return emitted, done


@numba.njit(cache=True, nogil=True)
def feed_kernel(pcm, fill, windows, emitted, finish, pending, held, head, buf, length, ends, taper, twiddle_re,
                twiddle_im, bitrev, post_re, post_im, re, im, power, mel, mel_lo, mel_hi, norm, peak, ring, mean, scale,
                w1, b1, w2, b2, x, hidden, outputs, postures, target, state, mouth, out):
    """The whole of one ``feed`` of int16 ``pcm`` (with ``finish``: then the round's end); returns keyframes written.

    ``fill`` samples of the current window wait in ``pending``; ``windows`` were analysed and
    ``emitted`` keyframes left this round. Each completed window gets its head keyframe from the
    ``procedural`` kernel (``head`` = that generator's ``window_args()``) into the ring ``held``,
    then its log-mel sub-frames; a keyframe leaves into ``out``, mouth filled in, once its
    look-ahead is analysed. ``finish`` pads the partial window and analyses the look-ahead as silence.
    """
    w, n = pending.shape[0], pcm.shape[0]
    samples = n + (w - (fill + n) % w if finish and (fill + n) % w else 0)  # finish pads the partial window
    total = windows + (fill + samples) // w  # the round's keyframes so far (when finishing, all of them)
    done = 0
    for s in range(samples):
        # int16 → [-1, 1) exactly as the head generator scales it (float32, a power of two: no rounding)
        pending[fill] = np.float32(pcm[s]) * np.float32(1.0 / 32768.0) if s < n else 0.0
        fill += 1
        if fill < w:
            continue
        fill = 0
        row = held[windows % held.shape[0]]
        row[:] = 0.0
        window_keyframe(pending, head[0], head[1], head[2], head[3], head[4], head[5], head[6], head[7], head[8], row)
        analyse_window(pending, buf, length, ends, taper, twiddle_re, twiddle_im, bitrev, post_re, post_im, re, im,
                       power, mel, mel_lo, mel_hi, norm, peak, ring, windows * SUBFRAMES)
        windows += 1
        emitted, done = _emit(total, windows, emitted, held, ring, mean, scale, w1, b1, w2, b2, x, hidden, outputs,
                              postures, target, state, mouth, out, done)
    if finish:
        pending[:] = 0.0
        for _ in range(LOOKAHEAD_WINDOWS):  # the look-ahead past the end is silence
            analyse_window(pending, buf, length, ends, taper, twiddle_re, twiddle_im, bitrev, post_re, post_im, re,
                           im, power, mel, mel_lo, mel_hi, norm, peak, ring, windows * SUBFRAMES)
            windows += 1
            emitted, done = _emit(total, windows, emitted, held, ring, mean, scale, w1, b1, w2, b2, x, hidden,
                                  outputs, postures, target, state, mouth, out, done)
    return done


class PhonemeMotionGenerator:
    """Implements ``engine.contracts.MotionGenerator`` with 80 ms (two keyframe windows) of look-ahead.

    Head sway, gaze and blinks come from the wrapped ``head`` generator (a ``procedural`` one,
    which keeps them continuous across rounds): its per-window kernel runs inside this
    generator's, which replaces the jaw and mouth. ``mouth`` is the ``(len(MOUTH_SHAPES), E)``
    matrix from named mouth shapes to the avatar's expression coefficients
    (:func:`.mapping.mouth_matrix`); all zeros animates the jaw only. One numba call per feed.
    State is bounded: one window of pending audio, a 16-sub-frame ring, at most three head keyframes held.
    """

    def __init__(self, sample_rate: int, expression_count: int, head: ProceduralMotionGenerator, mouth: np.ndarray,
                 weights: Weights | None = None) -> None:
        if sample_rate not in SAMPLE_RATES:
            raise ValueError(f"sample_rate must be one of {SAMPLE_RATES}, not {sample_rate!r}")
        self.dim = layout.motion_dim(expression_count)
        if mouth.shape != (len(MOUTH_SHAPES), expression_count):
            raise ValueError(f"mouth matrix must have shape {(len(MOUTH_SHAPES), expression_count)}, not {mouth.shape}")
        if head.window != sample_rate // layout.MOTION_FPS or head.dim != self.dim:
            raise ValueError("the head generator must run at the same sample rate and expression count")
        self.window = sample_rate // layout.MOTION_FPS
        self._head = head
        self._mouth = np.ascontiguousarray(mouth, np.float64)
        w = weights or shared_weights()
        net = (w.mean, w.scale, w.w1, w.b1, w.w2, w.b2, np.zeros(CONTEXT * FEATURES, np.float32),
               np.zeros(w.b1.shape[0], np.float32), np.zeros(OUTPUTS, np.float32))
        stream = FeatureStream(sample_rate)
        self._stream = stream
        self._pending = np.zeros(self.window, np.float32)
        held = np.zeros((LOOKAHEAD_WINDOWS + 2, self.dim), np.float32)  # head keyframes awaiting look-ahead
        self._kernel_args = (self._pending, held, head.window_args(), stream.buffer, *stream.tables, stream.peak,
                             stream.ring, *net, POSTURES, np.zeros(len(MOUTH_SHAPES)),
                             np.zeros(1 + len(MOUTH_SHAPES)), self._mouth)
        self._fill = 0  # samples in the pending window
        self._windows = 0  # windows analysed this round
        self._emitted = 0  # keyframes emitted this round

    # -- contract -------------------------------------------------------------------------------

    def feed(self, pcm16: np.ndarray) -> np.ndarray:
        pcm = np.ascontiguousarray(pcm16, dtype=np.int16).reshape(-1)
        total = self._fill + pcm.size
        windows = self._windows + total // self.window
        out = np.empty((max(windows - LOOKAHEAD_WINDOWS - self._emitted, 0), self.dim), np.float32)
        feed_kernel(pcm, self._fill, self._windows, self._emitted, False, *self._kernel_args, out)
        if windows > self._windows:
            self._head.after_windows()
        self._fill, self._windows, self._emitted = total % self.window, windows, self._emitted + len(out)
        return out

    def finish(self) -> np.ndarray:
        out = np.empty((self._windows + (1 if self._fill else 0) - self._emitted, self.dim), np.float32)
        feed_kernel(_NO_AUDIO, self._fill, self._windows, self._emitted, True, *self._kernel_args, out)
        self._head.after_windows()
        self.reset()
        return out

    def reset(self) -> None:
        self._head.reset()
        self._stream.reset_round()
        self._fill = self._windows = self._emitted = 0

