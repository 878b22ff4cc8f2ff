"""The ``phoneme`` motion generator: sound classes from the audio itself → jaw and lip shapes at 25 fps."""

from __future__ import annotations

import numba
import numpy as np

from engine.kit import MOUTH_SHAPES, SAMPLE_RATES, layout

from .features import FEATURES, PEAK_INIT_DB, RANGE_DB, SCALE_DB, SUBFRAMES, FrameAnalyser, analyse_windows
from .model import CONTEXT, LOOKAHEAD_WINDOWS, OUTPUTS, PAST, Weights, infer, load_weights
from .shapes import POSTURES, mouth_targets, smooth_step

SILENT_FEATURE = -RANGE_DB / SCALE_DB
RING = 32  # sub-frames kept: a keyframe's context (6 windows) plus windows pushed before it is emitted
BATCH = RING // SUBFRAMES - CONTEXT // SUBFRAMES  # windows analysed between emissions: the ring never overruns
assert BATCH >= 1

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
        self._buf = np.zeros(a.length + a.window, np.float64)
        self._tables = (a.length, a.ends) + tuple(a.fft) + (a.mel, a.mel_lo, a.mel_hi, a.norm)
        self.peak = np.array([PEAK_INIT_DB])  # session-long: the speaker's level carries over between rounds
        self.ring = np.full((RING, FEATURES), SILENT_FEATURE, np.float64)
        self.windows = 0  # windows analysed this round

    def reset_round(self) -> None:
        self._buf[:] = 0.0
        self.ring[:] = SILENT_FEATURE
        self.windows = 0

    def push(self, frames: np.ndarray) -> None:
        """Analyse whole windows ``frames (K, window)`` of float64 samples in [-1, 1]."""
        analyse_windows(frames, self._buf, *self._tables, self.peak, self.ring, self.windows * SUBFRAMES)
        self.windows += frames.shape[0]


@numba.njit(cache=True, nogil=True)
def mouth_keyframes(ring, first, mean, scale, w1, b1, w2, b2, x, hidden, outputs, postures, target, state,
                    mouth, out):
    """Replace jaw and mouth of the head keyframes ``out (K, D)``: keyframe ``first + k`` from its context."""
    rows, feats = ring.shape
    shapes, expressions = mouth.shape
    for k in range(out.shape[0]):
        start = (first + k) * SUBFRAMES - PAST
        for j in range(CONTEXT):
            m = start + j
            for f in range(feats):
                x[j * feats + f] = ring[m % rows, f] if m >= 0 else SILENT_FEATURE
        infer(x, mean, scale, w1, b1, w2, b2, hidden, outputs)
        jaw = smooth_step(state, mouth_targets(outputs, postures, target), target)
        out[k, layout.JAW.start] = jaw
        for e in range(expressions):
            acc = 0.0
            used = False
            for s in range(shapes):
                if mouth[s, e] != 0.0:
                    acc += state[1 + s] * mouth[s, e]
                    used = True
            if used:  # shapes this avatar realises replace the head generator's loudness-driven mouth
                out[k, layout.EXPRESSION_OFFSET + e] = acc


class PhonemeMotionGenerator:
    """Implements ``engine.contracts.MotionGenerator`` with 80 ms (two keyframe windows) of look-ahead.

    Head sway, gaze and blinks come from a wrapped ``head`` generator (the ``procedural`` one),
    which keeps them continuous across rounds; this generator replaces its jaw and mouth.
    ``mouth`` is the ``(len(MOUTH_SHAPES), E)`` matrix from named mouth shapes to the avatar's
    expression coefficients (:func:`.mapping.mouth_matrix`); all zeros animates the jaw only.
    State is bounded: one window of pending audio, a 32-sub-frame ring, at most three head keyframes held.
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
        self._stream = FeatureStream(sample_rate)
        self._pending = np.zeros(self.window, np.float64)
        self._fill = 0
        self._held = np.zeros((0, self.dim), np.float32)  # head keyframes waiting for their look-ahead
        self._emitted = 0
        self._target = np.zeros(len(MOUTH_SHAPES))
        self._state = np.zeros(1 + len(MOUTH_SHAPES))  # jaw, then shapes: carried across rounds

    # -- contract -------------------------------------------------------------------------------

    def feed(self, pcm16: np.ndarray) -> np.ndarray:
        pcm = np.asarray(pcm16, dtype=np.int16).reshape(-1)
        head = self._head.feed(pcm)
        total = self._fill + pcm.size
        count = total // self.window
        if count == 0:
            self._pending[self._fill:total] = pcm * (1.0 / 32768.0)
            self._fill = total
        else:
            frames = np.empty((count, self.window), np.float64)
            flat = frames.reshape(-1)
            flat[:self._fill] = self._pending[:self._fill]
            used = count * self.window - self._fill
            flat[self._fill:] = pcm[:used] * (1.0 / 32768.0)
            rest = pcm.size - used
            self._pending[:rest] = pcm[used:] * (1.0 / 32768.0)
            self._fill = rest
            return self._analyse_and_emit(frames, head)
        return self._emit(head, self._stream.windows - LOOKAHEAD_WINDOWS)

    def finish(self) -> np.ndarray:
        total = self._stream.windows + (1 if self._fill else 0)
        head = self._head.finish()
        tail = np.zeros((total - self._stream.windows + LOOKAHEAD_WINDOWS, self.window))  # look-ahead past the end: silence
        tail[0, :self._fill] = self._pending[:self._fill]
        out = self._analyse_and_emit(tail, head)
        self._new_round()
        return out

    def reset(self) -> None:
        self._head.reset()
        self._new_round()

    # -- internals ------------------------------------------------------------------------------

    def _new_round(self) -> None:
        self._stream.reset_round()
        self._fill = 0
        self._emitted = 0
        self._held = self._held[:0]

    def _analyse_and_emit(self, frames: np.ndarray, head: np.ndarray) -> np.ndarray:
        """Push ``frames`` BATCH windows at a time, emitting the keyframes each batch completes."""
        parts = []
        for at in range(0, frames.shape[0], BATCH):
            self._stream.push(frames[at:at + BATCH])
            parts.append(self._emit(head[:0] if parts else head, self._stream.windows - LOOKAHEAD_WINDOWS))
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def _emit(self, head: np.ndarray, ready: int) -> np.ndarray:
        held = np.concatenate([self._held, head]) if len(self._held) else head
        count = max(min(ready - self._emitted, len(held)), 0)
        out, self._held = np.ascontiguousarray(held[:count], np.float32), held[count:].copy()
        if count:
            mouth_keyframes(self._stream.ring, self._emitted, *self._net, POSTURES, self._target, self._state,
                            self._mouth, out)
            self._emitted += count
        return out
