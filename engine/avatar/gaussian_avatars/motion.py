"""Tracked FLAME sequences (``flame_param.npz``) as engine keyframes, and an idle loop cut from one."""

from __future__ import annotations

import numpy as np

from ...motion import layout
from .run import FlameParams

IDLE_FRAMES = 4 * layout.MOTION_FPS
IDLE_CROSSFADE = 12


def keyframes_from_flame_params(params: FlameParams, expression_count: int | None = None) -> np.ndarray:
    """float32 (T, 20 + E) in the engine motion layout; eyelids are 0 (GaussianAvatars' FLAME has none).

    ``expression_count`` (default: the sequence's E) truncates or zero-pads the expressions, so a sequence
    tracked with another E can drive an avatar.
    """
    e = params.expr.shape[1] if expression_count is None else int(expression_count)
    out = np.zeros((params.frames, layout.motion_dim(e)), np.float32)
    out[:, layout.TRANSLATION] = params.translation
    out[:, layout.ROTATION] = params.rotation
    out[:, layout.NECK] = params.neck_pose
    out[:, layout.JAW] = params.jaw_pose
    out[:, layout.EYES] = params.eyes_pose
    k = min(e, params.expr.shape[1])
    out[:, layout.EXPRESSION_OFFSET:layout.EXPRESSION_OFFSET + k] = params.expr[:, :k]
    return out


def idle_from_keyframes(keyframes: np.ndarray, frames: int = IDLE_FRAMES) -> np.ndarray:
    """The calmest stretch of a tracked sequence (closest on average to its median pose), made to loop.

    Its head translation and global rotation are centred on zero — where motion generators drive them
    (they move the head about the model's origin), so speech starts without a jump — and its last frames
    fade into its first, so the loop has no jump where it wraps.
    """
    t = keyframes.shape[0]
    n = min(frames, t)
    dist = np.linalg.norm(keyframes[:, 3:] - np.median(keyframes[:, 3:], axis=0), axis=1)  # translation aside
    window = np.convolve(dist, np.ones(n), mode="valid")
    start = int(np.argmin(window))
    loop = keyframes[start:start + n].astype(np.float64)
    for part in (layout.TRANSLATION, layout.ROTATION):  # small angles: centring the axis-angles is enough
        loop[:, part] -= loop[:, part].mean(axis=0)
    fade = min(IDLE_CROSSFADE, n // 4)
    for j in range(fade):
        w = (j + 1) / (fade + 1)
        loop[n - fade + j] = (1 - w) * loop[n - fade + j] + w * loop[0]
    return np.ascontiguousarray(loop, np.float32)
