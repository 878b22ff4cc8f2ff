"""The ``phoneme`` motion generator: sound classes from the audio itself → jaw and lip shapes at 25 fps."""

from __future__ import annotations

import numba
import numpy as np

from engine.kit import MOUTH_SHAPES, SAMPLE_RATES, layout

from .features import (FEATURES, PEAK_INIT_DB, RANGE_DB, SCALE_DB, SUBFRAMES, FrameAnalyser, analyse_window,
                       analyse_windows)
from .model import CONTEXT, LOOKAHEAD_WINDOWS, OUTPUTS, PAST, Weights, infer, load_weights
from .shapes import POSTURES, mouth_targets, smooth_step

SILENT_FEATURE = -RANGE_DB / SCALE_DB
RING = 16  # sub-frames kept: a keyframe's context (6 windows) and the window being analysed
assert RING >= CONTEXT + SUBFRAMES

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
def step(frames, counters, buf, length, ends, taper, twiddle_re, twiddle_im, bitrev, post_re, post_im, re, im,
         power, mel, mel_lo, mel_hi, norm, peak, ring, mean, scale, w1, b1, w2, b2, x, hidden, outputs, postures,
         target, state, mouth, out):
    """Analyse the windows ``frames (K, W)`` and give each keyframe its mouth as soon as its look-ahead is in.

    ``counters`` = [windows analysed, keyframes emitted] of the round, updated; ``out`` holds the head
    keyframes to emit, in order. Interleaving analysis and emission keeps every context in the ring.
    """
    done = 0
    for k in range(frames.shape[0] + 1):
        while done < out.shape[0] and counters[1] + 1 + LOOKAHEAD_WINDOWS <= counters[0]:
            _mouth(ring, counters[1], mean, scale, w1, b1, w2, b2, x, hidden, outputs, postures, target, state,
                   mouth, out[done])
            counters[1] += 1
            done += 1
        if k < frames.shape[0]:
            analyse_window(frames[k], buf, length, ends, taper, twiddle_re, twiddle_im, bitrev, post_re, post_im,
                           re, im, power, mel, mel_lo, mel_hi, norm, peak, ring, counters[0] * SUBFRAMES)
            counters[0] += 1
    return done


class PhonemeMotionGenerator:
    """Implements ``engine.contracts.MotionGenerator`` with 80 ms (two keyframe windows) of look-ahead.

    Head sway, gaze and blinks come from a wrapped ``head`` generator (the ``procedural`` one),
    which keeps them continuous across rounds; this generator replaces its jaw and mouth.
    ``mouth`` is the ``(len(MOUTH_SHAPES), E)`` matrix from named mouth shapes to the avatar's
    expression coefficients (:func:`.mapping.mouth_matrix`); all zeros animates the jaw only.
    State is bounded: one window of pending audio, a 16-sub-frame ring, at most three head keyframes held.
    """

    def __init__(self, sample_rate: int, expression_count: int, head, mouth: np.ndarray,
                 weights: Weights | None = None) -> None:
        if sample_rate not in SAMPLE_RATES:
            raise ValueError(f"sample_rate must be one of {SAMPLE_RATES}, not {sample_rate!r}")
        self.dim = layout.motion_dim(expression_count)
        if mouth.shape != (len(MOUTH_SHAPES), expression_count):
            raise ValueError(f"mouth matrix must have shape {(len(MOUTH_SHAPES), expression_count)}, not {mouth.shape}")
        self.window = sample_rate // layout.MOTION_FPS
        self._head = head
        self._mouth = np.ascontiguousarray(mouth, np.float64)
        w = weights or shared_weights()
        self._net = (w.mean, w.scale, w.w1, w.b1, w.w2, w.b2, np.zeros(CONTEXT * FEATURES, np.float32),
                     np.zeros(w.b1.shape[0], np.float32), np.zeros(OUTPUTS, np.float32))
        stream = FeatureStream(sample_rate)
        self._stream = stream
        self._kernel_args = (stream.buffer, *stream.tables, stream.peak, stream.ring, *self._net, POSTURES,
                             np.zeros(len(MOUTH_SHAPES)), np.zeros(1 + len(MOUTH_SHAPES)), self._mouth)
        self._counters = np.zeros(2, np.int64)  # windows analysed, keyframes emitted (this round)
        self._pending = np.zeros(self.window, np.float64)
        self._fill = 0
        self._no_frames = np.zeros((0, self.window), np.float64)
        self._held = np.zeros((LOOKAHEAD_WINDOWS + 2, self.dim), np.float32)  # head keyframes awaiting look-ahead
        self._n_held = 0

    # -- contract -------------------------------------------------------------------------------

    def feed(self, pcm16: np.ndarray) -> np.ndarray:
        pcm = np.asarray(pcm16, dtype=np.int16).reshape(-1)
        head = self._head.feed(pcm)
        total = self._fill + pcm.size
        count = total // self.window
        if count == 0:
            self._pending[self._fill:total] = pcm * (1.0 / 32768.0)
            self._fill = total
            frames = self._no_frames
        else:
            frames = np.empty((count, self.window), np.float64)
            flat = frames.reshape(-1)
            flat[:self._fill] = self._pending[:self._fill]
            used = count * self.window - self._fill
            flat[self._fill:] = pcm[:used] * (1.0 / 32768.0)
            rest = pcm.size - used
            self._pending[:rest] = pcm[used:] * (1.0 / 32768.0)
            self._fill = rest
        return self._step(frames, head, int(self._counters[0]) + count - LOOKAHEAD_WINDOWS)

    def finish(self) -> np.ndarray:
        total = int(self._counters[0]) + (1 if self._fill else 0)
        head = self._head.finish()
        tail = np.zeros((total - int(self._counters[0]) + LOOKAHEAD_WINDOWS, self.window))  # look-ahead: silence
        tail[0, :self._fill] = self._pending[:self._fill]
        out = self._step(tail, head, total)
        self._new_round()
        return out

    def reset(self) -> None:
        self._head.reset()
        self._new_round()

    # -- internals ------------------------------------------------------------------------------

    def _new_round(self) -> None:
        self._stream.reset_round()
        self._counters[:] = 0
        self._fill = 0
        self._n_held = 0

    def _step(self, frames: np.ndarray, head: np.ndarray, ready: int) -> np.ndarray:
        """Emit the held and new head keyframes whose look-ahead is in (``ready`` in all), mouths filled in."""
        held, n_held = self._held, self._n_held
        count = max(min(ready - int(self._counters[1]), n_held + len(head)), 0)
        out = np.empty((count, self.dim), np.float32)
        k = min(count, n_held)
        out[:k] = held[:k]
        out[k:] = head[:count - k]
        rest = head[count - k:]
        left = n_held - k
        if k and left:
            held[:left] = held[k:n_held]
        if left + len(rest) > len(held):  # only a feed far larger than the look-ahead gets here
            self._held = held = np.concatenate([held[:left], np.zeros((left + len(rest), self.dim), np.float32)])
        held[left:left + len(rest)] = rest
        self._n_held = left + len(rest)
        step(frames, self._counters, *self._kernel_args, out)
        return out
