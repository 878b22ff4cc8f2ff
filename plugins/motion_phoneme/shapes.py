"""From class probabilities and opening to jaw and named mouth shapes, with coarticulation.

Each sound class has a lip posture (rounded lips pucker and funnel, spread vowels widen, /f v/
lift the lower lip to the teeth, /p b m/ press the lips together); the posture drawn is the mix
of the class postures weighted by the classifier's probabilities, so an uncertain frame lands
between shapes instead of snapping. The jaw follows the predicted opening; closure (the
probability of a bilabial or of silence) shuts the jaw and parts nothing. Postures then move
towards their targets with a fast critically damped step, faster when closing (lips meet quickly,
as a speaker's do) than when relaxing.
"""

from __future__ import annotations

import numba
import numpy as np

from engine.kit import MOUTH_SHAPES

from .phonemes import BILABIAL, CLASSES, LABIODENTAL, OPEN, ROUNDED, SILENCE, SPREAD

MOUTH_OPEN, LIP_PRESS, LIP_PUCKER, LIP_FUNNEL, LIP_SPREAD, UPPER_LIP_UP, LOWER_LIP_DOWN = range(len(MOUTH_SHAPES))
JAW_MAX_RAD = 0.26
OPEN_LIPS = 0.35  # mouth_open per unit of opening: the lips part beyond what the jaw gives, so vowels read

POSTURES = np.zeros((len(CLASSES), len(MOUTH_SHAPES)), np.float64)
POSTURES[SILENCE, MOUTH_OPEN] = -0.08
POSTURES[BILABIAL, [MOUTH_OPEN, LIP_PRESS]] = (-0.15, 0.7)
POSTURES[LABIODENTAL, [MOUTH_OPEN, UPPER_LIP_UP, LOWER_LIP_DOWN]] = (-0.1, 0.25, -0.55)
POSTURES[ROUNDED, [LIP_PUCKER, LIP_FUNNEL, LIP_SPREAD]] = (0.8, 0.45, -0.2)
POSTURES[SPREAD, [LIP_SPREAD, LIP_PUCKER]] = (0.7, -0.1)
POSTURES[OPEN, [MOUTH_OPEN, UPPER_LIP_UP, LOWER_LIP_DOWN]] = (0.25, 0.25, 0.2)

# Smoothing steps per keyframe (0..1 of the way to the target): lips close within one keyframe
# (the renderer's interpolation already spreads it over 40 ms) and open a little more softly.
CLOSE_RATE, OPEN_RATE, POSTURE_RATE = 1.0, 0.75, 0.6
# Closure is believed from the classes (bilabial or silence) or from a predicted opening near zero.
CLOSED_OPENING, CLOSED_OPENING_RAMP = 0.22, 0.15
# How far mouth_open must close the lips against each radian of jaw (the demo head: its mouth_open
# parts the lips 9.3 mm per unit, its jaw 88 mm per radian), so closure seals the lips.
SEAL_PER_RAD = 9.5


@numba.njit(cache=True, nogil=True)
def mouth_targets(outputs, postures, shape_out):
    """Jaw angle (rad) for one classifier output; fills ``shape_out (len(MOUTH_SHAPES),)``."""
    n = postures.shape[0]
    top = outputs[0]
    for c in range(1, n):
        top = max(top, outputs[c])
    total = 0.0
    for c in range(n):
        total += np.exp(outputs[c] - top)
    shape_out[:] = 0.0
    for c in range(n):
        p = np.exp(outputs[c] - top) / total
        for s in range(postures.shape[1]):
            shape_out[s] += p * postures[c, s]
    p_closed = (np.exp(outputs[BILABIAL] - top) + np.exp(outputs[SILENCE] - top)) / total
    opening = min(max(outputs[n], 0.0), 1.0)
    closure = max(min(max(1.6 * p_closed - 0.3, 0.0), 1.0),
                  min(max((CLOSED_OPENING - opening) / CLOSED_OPENING_RAMP, 0.0), 1.0))
    jaw = JAW_MAX_RAD * opening * (1.0 - closure)
    shape_out[MOUTH_OPEN] += OPEN_LIPS * opening * (1.0 - closure) - closure * SEAL_PER_RAD * jaw
    return jaw


@numba.njit(cache=True, nogil=True)
def smooth_step(state, jaw_target, shape_target):
    """Move ``state`` (jaw, then shapes) towards the targets; returns the new jaw."""
    rate = CLOSE_RATE if jaw_target < state[0] else OPEN_RATE
    state[0] += rate * (jaw_target - state[0])
    for s in range(shape_target.shape[0]):
        state[1 + s] += POSTURE_RATE * (shape_target[s] - state[1 + s])
    return state[0]
