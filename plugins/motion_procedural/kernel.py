"""The numba recurrence that turns audio features into mouth and head motion, frame by frame.

Everything here is causal one-pole smoothing over per-session state, so the output of a
keyframe depends only on audio up to the end of its own window.
"""

from __future__ import annotations

import numba
import numpy as np

# state slots
FLOOR, PEAK, JAW, ROUND, SPREAD, SMILE, ENERGY = range(7)
STATE_SIZE = 7

FLOOR_MIN_DB, FLOOR_MAX_DB = -70.0, -25.0
FLOOR_RISE_DB = 0.06  # per frame (1.5 dB/s): the floor creeps up through steady noise...
FLOOR_FALL = 0.5  # ...and drops quickly to a quieter level
MIN_RANGE_DB = 24.0  # the loudest recent speech sits at least this far above the floor
PEAK_DECAY_DB = 0.04  # per frame (1 dB/s): the peak tracker forgets a shout over ~20 s
JAW_MAX_RAD = 0.30


@numba.njit(cache=True, nogil=True)
def speech_motion(features, state, out):
    """Fill ``out (K, 5)`` with jaw opening (rad), lip round, lip spread, smile, speech energy (0..1).

    ``features (K, 5)``: level dBFS, low, mid, high band fractions, centroid Hz (see features.py).
    ``state (6,)`` is updated in place.
    """
    for k in range(features.shape[0]):
        level = features[k, 0]
        low = features[k, 1]
        mid = features[k, 2]
        high = features[k, 3]
        centroid = features[k, 4]
        floor = state[FLOOR]
        if level < floor:
            floor += FLOOR_FALL * (level - floor)
        else:
            floor += FLOOR_RISE_DB
        floor = min(max(floor, FLOOR_MIN_DB), FLOOR_MAX_DB)
        state[FLOOR] = floor
        # Adaptive gain: loudness is measured between the noise floor and the recent peak, so
        # a quiet speaker opens the mouth as far as a loud one.
        peak = max(state[PEAK] - PEAK_DECAY_DB, level, floor + MIN_RANGE_DB)
        state[PEAK] = peak
        activity = min(max((level - floor - 4.0) / (peak - floor - 2.0), 0.0), 1.0)
        # Open vowels put their energy low and mid; fricatives (high band) barely open the jaw.
        voiced = min(low + mid + 0.3 * high, 1.0)
        openness = activity ** 0.7 * (0.35 + 0.65 * voiced)
        bright = min(max((centroid - 900.0) / 2200.0, 0.0), 1.0)
        round_target = activity * (1.0 - bright) * min(low * 1.6, 1.0)
        spread_target = activity * bright * (0.5 + 0.5 * high)
        # Fast attack, slower release: mouths snap open and relax shut.
        a = 0.65 if openness > state[JAW] else 0.4
        state[JAW] += a * (openness - state[JAW])
        state[ROUND] += 0.45 * (round_target - state[ROUND])
        state[SPREAD] += 0.45 * (spread_target - state[SPREAD])
        state[ENERGY] += 0.08 * (activity - state[ENERGY])
        state[SMILE] += 0.03 * (0.15 + 0.35 * state[ENERGY] - state[SMILE])
        out[k, 0] = JAW_MAX_RAD * state[JAW]
        out[k, 1] = state[ROUND]
        out[k, 2] = state[SPREAD]
        out[k, 3] = state[SMILE]
        out[k, 4] = state[ENERGY]


def new_state() -> np.ndarray:
    state = np.zeros(STATE_SIZE, np.float64)
    state[FLOOR] = FLOOR_MIN_DB
    state[PEAK] = FLOOR_MIN_DB + MIN_RANGE_DB
    return state
