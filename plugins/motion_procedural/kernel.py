"""The numba kernel that turns analysed 40 ms windows into complete FLAME keyframes.

Everything here is causal one-pole smoothing over per-session state, so keyframe i depends
only on audio up to the end of its own window. One call handles a batch of windows; per
window it costs a few microseconds plus the FFT. :func:`window_keyframe` is one window, for
generators that run this one's head motion inside their own kernel.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .features import power_spectrum

# state slots
FLOOR, PEAK, JAW, ROUND, SPREAD, SMILE, ENERGY, FRAME, NEXT_BLINK, GAP_INDEX = range(10)
STATE_SIZE = 10

FLOOR_MIN_DB, FLOOR_MAX_DB = -70.0, -25.0
FLOOR_RISE_DB = 0.06  # per frame (1.5 dB/s): the floor creeps up through steady noise...
FLOOR_FALL = 0.5  # ...and drops quickly to a quieter level
MIN_RANGE_DB = 24.0  # the loudest recent speech sits at least this far above the floor
PEAK_DECAY_DB = 0.04  # per frame (1 dB/s): the peak tracker forgets a shout over ~20 s
JAW_MAX_RAD = 0.30
CENTROID_DARK_HZ, CENTROID_SPAN_HZ = 900.0, 2200.0

# layout (engine.motion.layout): translation 0-2, rotation 3-5, neck 6-8, jaw 9-11, eyes 12-17, lids 18-19
ROT, NECK, JAW_X, EYE_L, EYE_R, LIDS, EXPR = 3, 6, 9, 12, 15, 18, 20


@numba.njit(cache=True, nogil=True)
def _features(frame, power, freqs, bands):
    """Level (dBFS), low/mid/high band energy fractions and spectral centroid (Hz) of one window."""
    acc = 0.0
    for s in range(frame.shape[0]):
        acc += frame[s] * frame[s]
    level = 20.0 * math.log10(math.sqrt(acc / frame.shape[0]) + 1e-9)
    e = (0.0, 0.0, 0.0)  # per band; a tuple, so no array is allocated per window
    total = 1e-12
    weighted = 0.0
    for b in range(3):
        acc = 0.0
        for i in range(bands[b, 0], bands[b, 1]):
            acc += power[i]
            weighted += power[i] * freqs[i]
        e = (acc, e[1], e[2]) if b == 0 else (e[0], acc, e[2]) if b == 1 else (e[0], e[1], acc)
        total += acc
    return level, e[0] / total, e[1] / total, e[2] / total, weighted / total


@numba.njit(cache=True, nogil=True)
def speech_keyframes(frames, fft, freqs, bands, state, sway_freq, sway_phase, blink_shape, blink_gaps,
                     channels, out):
    """Fill ``out (K, D)`` (zeroed) from ``frames (K, W)`` in [-1, 1].

    ``fft``: the tables of ``features.Spectrum.tables()`` (the last one receives each window's
    power spectrum); ``bands (3, 2)``: bin ranges of the low/mid/high bands; ``sway_freq``/``sway_phase (6, 2)``:
    head xyz and neck xyz sinusoids; ``blink_gaps``: frames between blinks, consumed from
    ``state[GAP_INDEX]``; ``channels (4,)``: expression index of mouth open, round, spread, smile
    (-1 when the avatar has fewer expressions).
    """
    for k in range(frames.shape[0]):
        window_keyframe(frames[k], fft, freqs, bands, state, sway_freq, sway_phase, blink_shape, blink_gaps,
                        channels, out[k])


@numba.njit(cache=True, nogil=True)
def window_keyframe(frame, fft, freqs, bands, state, sway_freq, sway_phase, blink_shape, blink_gaps, channels, row):
    """One window ``frame (W,)`` → the keyframe ``row (D,)`` (zeroed); arguments as :func:`speech_keyframes`.

    Other generators call it from their own kernels for this generator's head, gaze and blinks
    (``ProceduralMotionGenerator.window_args``).
    """
    taper, twiddle_re, twiddle_im, bitrev, post_re, post_im, re, im, power = fft
    power_spectrum(frame, taper, twiddle_re, twiddle_im, bitrev, post_re, post_im, re, im, power)
    level, low, mid, high, centroid = _features(frame, power, freqs, bands)
    floor = state[FLOOR]
    floor = floor + FLOOR_FALL * (level - floor) if level < floor else floor + FLOOR_RISE_DB
    floor = min(max(floor, FLOOR_MIN_DB), FLOOR_MAX_DB)
    state[FLOOR] = floor
    # Adaptive gain: loudness between the noise floor and the recent peak, so a quiet
    # speaker opens the mouth as far as a loud one.
    peak = max(state[PEAK] - PEAK_DECAY_DB, level, floor + MIN_RANGE_DB)
    state[PEAK] = peak
    activity = min(max((level - floor - 4.0) / (peak - floor - 2.0), 0.0), 1.0)
    # Open vowels put their energy low and mid; fricatives (high band) barely open the jaw.
    voiced = min(low + mid + 0.3 * high, 1.0)
    openness = activity ** 0.7 * (0.35 + 0.65 * voiced)
    bright = min(max((centroid - CENTROID_DARK_HZ) / CENTROID_SPAN_HZ, 0.0), 1.0)
    round_target = activity * (1.0 - bright) * min(low * 1.6, 1.0)
    spread_target = activity * bright * (0.5 + 0.5 * high)
    # Fast attack, slower release: mouths snap open and relax shut.
    a = 0.65 if openness > state[JAW] else 0.4
    state[JAW] += a * (openness - state[JAW])
    state[ROUND] += 0.45 * (round_target - state[ROUND])
    state[SPREAD] += 0.45 * (spread_target - state[SPREAD])
    state[ENERGY] += 0.08 * (activity - state[ENERGY])
    state[SMILE] += 0.03 * (0.15 + 0.35 * state[ENERGY] - state[SMILE])
    jaw = JAW_MAX_RAD * state[JAW]
    row[JAW_X] = jaw
    mouth = (state[JAW], state[ROUND], state[SPREAD], state[SMILE])
    for c in range(4):
        if channels[c] >= 0:
            row[EXPR + channels[c]] = mouth[c]
    # Sway grows with sustained loudness; the neck also nods a little with each opening.
    t = state[FRAME] / 25.0
    amplitude = 0.012 + 0.035 * state[ENERGY]
    for axis in range(6):
        wave = 0.0
        for j in range(2):
            wave += math.sin(2.0 * math.pi * sway_freq[axis, j] * t + sway_phase[axis, j])
        if axis < 3:
            row[ROT + axis] = 0.5 * amplitude * wave
        else:
            row[NECK + axis - 3] = amplitude * wave
    row[NECK] += 0.12 * jaw
    # Eyes counter-rotate so the gaze stays on the camera while the head moves.
    for axis in range(2):
        gaze = -0.6 * (row[ROT + axis] + row[NECK + axis])
        row[EYE_L + axis] = gaze
        row[EYE_R + axis] = gaze
    phase = int(state[FRAME] - state[NEXT_BLINK])
    if phase >= blink_shape.shape[0]:
        state[NEXT_BLINK] = state[FRAME] + blink_gaps[min(int(state[GAP_INDEX]), blink_gaps.shape[0] - 1)]
        state[GAP_INDEX] += 1
    elif phase >= 0:
        row[LIDS] = blink_shape[phase]
        row[LIDS + 1] = blink_shape[phase]
    state[FRAME] += 1


def new_state(first_blink: float) -> np.ndarray:
    state = np.zeros(STATE_SIZE, np.float64)
    state[FLOOR] = FLOOR_MIN_DB
    state[PEAK] = FLOOR_MIN_DB + MIN_RANGE_DB
    state[NEXT_BLINK] = first_blink
    return state


def reset_round(state: np.ndarray) -> None:
    """Forget the mouth of the round; keep the channel (floor, peak) and the session's clock and blinks."""
    state[JAW:FRAME] = 0.0
