"""The demo's idle animation: a 4 s breathing loop at 25 fps in the engine motion layout.

Every motion is a sum of harmonics of the loop period, so the last keyframe flows into the first;
one blink sits mid-loop, far from the seam.
"""

from __future__ import annotations

import numpy as np

from ...motion import layout

LOOP_SECONDS = 4.0


def idle_loop(expression_count: int) -> np.ndarray:
    """(100, 20 + E) float32 keyframes."""
    k = int(LOOP_SECONDS * layout.MOTION_FPS)
    t = np.arange(k) / layout.MOTION_FPS
    w = 2.0 * np.pi / LOOP_SECONDS
    frames = np.zeros((k, layout.motion_dim(expression_count)))
    frames[:, 1] = 0.0008 * np.sin(w * t)  # chest rise lifts the head a little
    frames[:, layout.NECK.start + 0] = 0.012 * np.sin(w * t + 0.4)  # nod with the breath
    frames[:, layout.NECK.start + 1] = 0.018 * np.sin(w * t + 1.3) + 0.006 * np.sin(2 * w * t)
    frames[:, layout.NECK.start + 2] = 0.006 * np.sin(2 * w * t + 0.5)
    frames[:, layout.JAW.start] = 0.012 + 0.006 * (1.0 - np.cos(w * t)) / 2.0  # lips barely apart on the in-breath
    blink = np.exp(-0.5 * ((t - 2.0) / 0.07) ** 2)
    frames[:, layout.EYELIDS] = blink[:, None]
    gaze = 0.03 * np.sin(w * t + 2.0)
    frames[:, layout.EYE_LEFT.start + 1] = gaze
    frames[:, layout.EYE_RIGHT.start + 1] = gaze
    return frames.astype(np.float32)
