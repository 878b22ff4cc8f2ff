"""The ``procedural`` motion generator: speech loudness and spectrum → FLAME keyframes at 25 fps."""

from __future__ import annotations

import numpy as np

from engine.config import SAMPLE_RATES
from engine.motion import layout

from .features import FrameAnalyzer
from .kernel import speech_motion, new_state

# Which expression coefficients carry which mouth shape: the demo avatar's named blendshapes
# (engine/avatar/demo/expressions.py: mouth_open, lip_pucker, lip_spread, smile, ...). A
# user-supplied FLAME model gets the same numbers on its first PCA components.
EXPR_MOUTH_OPEN = 0
EXPR_LIP_ROUND = 1
EXPR_LIP_SPREAD = 2
EXPR_SMILE = 3

BLINK_SHAPE = np.array([0.55, 1.0, 0.75, 0.35, 0.1], np.float32)  # eyelid closure per frame (~200 ms)
BLINK_INTERVAL_S = (2.0, 6.0)
SWAY_FREQ_HZ = (0.07, 0.33)


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
        self._analyze = FrameAnalyzer(sample_rate, self.window)
        self._pending = np.zeros(self.window, np.float32)
        self._fill = 0
        self._state = new_state()
        self._rng = np.random.default_rng(seed)
        # 6 sway channels (head xyz, neck xyz), two incommensurate sinusoids each.
        self._sway_freq = self._rng.uniform(*SWAY_FREQ_HZ, size=(6, 2))
        self._sway_phase = self._rng.uniform(0.0, 2 * np.pi, size=(6, 2))
        self._session_frame = 0
        self._next_blink = self._draw_blink_gap()

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
        self._end_round()
        return out

    def reset(self) -> None:
        self._end_round()

    # -- internals ------------------------------------------------------------------------------

    def _end_round(self) -> None:
        self._fill = 0
        levels = self._state[:2].copy()
        self._state = new_state()
        self._state[:2] = levels  # floor and peak describe the channel and speaker, not the round

    def _draw_blink_gap(self, after_frame: int = 0) -> int:
        """Session frame at which the next blink starts, 2-6 s after ``after_frame``."""
        return after_frame + int(round(self._rng.uniform(*BLINK_INTERVAL_S) * layout.MOTION_FPS))

    def _keyframes(self, frames: np.ndarray) -> np.ndarray:
        count = frames.shape[0]
        mouth = np.empty((count, 5), np.float64)
        speech_motion(self._analyze(frames).astype(np.float64), self._state, mouth)
        out = np.zeros((count, self.dim), np.float32)
        jaw, lip_round, lip_spread, smile, energy = mouth.T
        out[:, layout.JAW.start] = jaw
        for index, value in ((EXPR_MOUTH_OPEN, jaw / 0.3), (EXPR_SMILE, smile), (EXPR_LIP_ROUND, lip_round),
                             (EXPR_LIP_SPREAD, lip_spread)):
            if index < self.expression_count:
                out[:, layout.EXPRESSION_OFFSET + index] = value
        t = (self._session_frame + np.arange(count)) / layout.MOTION_FPS
        waves = np.sin(2 * np.pi * self._sway_freq[None] * t[:, None, None] + self._sway_phase[None]).sum(axis=2)
        # Sway grows with sustained loudness; the neck also nods a little with each opening.
        amplitude = (0.012 + 0.035 * energy)[:, None]
        out[:, layout.ROTATION] = 0.5 * amplitude * waves[:, 0:3]
        out[:, layout.NECK] = amplitude * waves[:, 3:6]
        out[:, layout.NECK.start] += 0.12 * jaw
        # Eyes counter-rotate so the gaze stays on the camera while the head moves.
        gaze = -0.6 * (out[:, layout.ROTATION] + out[:, layout.NECK])
        gaze[:, 2] = 0.0
        out[:, layout.EYE_LEFT] = gaze
        out[:, layout.EYE_RIGHT] = gaze
        for k in range(count):
            frame = self._session_frame + k
            phase = frame - self._next_blink
            if 0 <= phase < BLINK_SHAPE.size:
                out[k, layout.EYELIDS] = BLINK_SHAPE[phase]
            elif phase >= BLINK_SHAPE.size:
                self._next_blink = self._draw_blink_gap(frame)
        self._session_frame += count
        return out
