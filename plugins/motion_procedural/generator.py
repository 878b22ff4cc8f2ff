"""The ``procedural`` motion generator: speech loudness and spectrum → FLAME keyframes at 25 fps."""

from __future__ import annotations

import numpy as np

from engine.kit import SAMPLE_RATES, layout

from .features import Spectrum
from .kernel import GAP_INDEX, new_state, reset_round, speech_keyframes

# Which expression coefficients carry which mouth shape: the demo avatar's named blendshapes
# (engine/avatar/demo/expressions.py: mouth_open, lip_pucker, lip_spread, smile, ...). A
# user-supplied FLAME model gets the same numbers on its first PCA components.
EXPR_MOUTH_OPEN = 0
EXPR_LIP_ROUND = 1
EXPR_LIP_SPREAD = 2
EXPR_SMILE = 3

BLINK_SHAPE = np.array([0.55, 1.0, 0.75, 0.35, 0.1])  # eyelid closure per frame (~200 ms)
BLINK_INTERVAL_S = (2.0, 6.0)
SWAY_FREQ_HZ = (0.07, 0.33)
_GAPS = 64  # blink gaps drawn ahead; refilled by halves


class ProceduralMotionGenerator:
    """Implements ``engine.contracts.MotionGenerator``: deterministic for a given seed and audio.

    Keyframe i of a round is emitted as soon as samples ``[i*sr/25, (i+1)*sr/25)`` have arrived
    (no look-ahead); all smoothing is causal. Blinks and sway run on a session frame counter so
    they continue smoothly across rounds.
    """

    def __init__(self, sample_rate: int, expression_count: int, seed: int = 0) -> None:
        if sample_rate not in SAMPLE_RATES:
            raise ValueError(f"sample_rate must be one of {SAMPLE_RATES}, not {sample_rate!r}")
        self.sample_rate = sample_rate
        self.dim = layout.motion_dim(expression_count)
        self.expression_count = expression_count
        self.window = sample_rate // layout.MOTION_FPS  # integral for every supported rate
        self._spectrum = Spectrum(sample_rate, self.window)
        self._fft = self._spectrum.tables()
        self._pending = np.zeros(self.window, np.float32)
        self._fill = 0
        self._rng = np.random.default_rng(seed)
        # 6 sway channels (head xyz, neck xyz), two incommensurate sinusoids each.
        self._sway_freq = self._rng.uniform(*SWAY_FREQ_HZ, size=(6, 2))
        self._sway_phase = self._rng.uniform(0.0, 2 * np.pi, size=(6, 2))
        self._gaps = self._draw_gaps(_GAPS)
        self._state = new_state(first_blink=self._draw_gaps(1)[0])
        self._channels = np.array([c if c < expression_count else -1
                                   for c in (EXPR_MOUTH_OPEN, EXPR_LIP_ROUND, EXPR_LIP_SPREAD, EXPR_SMILE)], np.int64)
        self._window_args = (self._fft, self._spectrum.freqs, self._spectrum.bands, self._state, self._sway_freq,
                             self._sway_phase, BLINK_SHAPE, self._gaps, self._channels)

    # -- contract -------------------------------------------------------------------------------

    def feed(self, pcm16: np.ndarray) -> np.ndarray:
        samples = np.asarray(pcm16, dtype=np.int16).reshape(-1).astype(np.float32) * (1.0 / 32768.0)
        total = self._fill + samples.size
        count = total // self.window
        if count == 0:
            self._pending[self._fill:total] = samples
            self._fill = total
            return np.zeros((0, self.dim), np.float32)
        frames = np.empty((count, self.window), np.float32)
        flat = frames.reshape(-1)
        flat[:self._fill] = self._pending[:self._fill]
        used = count * self.window - self._fill
        flat[self._fill:] = samples[:used]
        rest = samples.size - used
        self._pending[:rest] = samples[used:]
        self._fill = rest
        return self._keyframes(frames)

    def finish(self) -> np.ndarray:
        if self._fill == 0:
            out = np.zeros((0, self.dim), np.float32)
        else:
            frame = np.zeros((1, self.window), np.float32)
            frame[0, :self._fill] = self._pending[:self._fill]
            out = self._keyframes(frame)
        self.reset()
        return out

    def reset(self) -> None:
        self._fill = 0
        reset_round(self._state)

    # -- internals ------------------------------------------------------------------------------

    def _draw_gaps(self, n: int) -> np.ndarray:
        return np.round(self._rng.uniform(*BLINK_INTERVAL_S, size=n) * layout.MOTION_FPS)

    def _keyframes(self, frames: np.ndarray) -> np.ndarray:
        out = np.zeros((frames.shape[0], self.dim), np.float32)
        speech_keyframes(frames, *self._window_args, out)
        self.after_windows()
        return out

    # -- for generators that run this one's head motion in their own kernel ---------------------

    def window_args(self) -> tuple:
        """The arguments of :func:`.kernel.window_keyframe` after ``frame`` and before ``row``: this
        generator's tables and live state (updated in place). Call :meth:`after_windows` after each batch."""
        return self._window_args

    def after_windows(self) -> None:
        """Keep blink gaps ahead of the kernel (it uses < 1 per window; refilled by halves)."""
        if self._state[GAP_INDEX] >= _GAPS // 2:
            self._gaps[:_GAPS // 2] = self._gaps[_GAPS // 2:]
            self._gaps[_GAPS // 2:] = self._draw_gaps(_GAPS // 2)
            self._state[GAP_INDEX] -= _GAPS // 2
