"""Pose arithmetic for playback: sampling a looping keyframe track and blending two poses.

Rotations (the axis-angle triples of ``engine.motion.layout.ROTATION_TRIPLES``) are
interpolated through quaternion slerp, everything else linearly, as DESIGN.md §2 asks.
These run on the render tick, on vectors of ``20 + E`` floats.
"""

from __future__ import annotations

import numpy as np

from ..motion.layout import MOTION_FPS, ROTATION_TRIPLES

_ROT_INDEX = np.array([[s, s + 1, s + 2] for s in ROTATION_TRIPLES], dtype=np.intp)


def _to_quat(aa: np.ndarray) -> np.ndarray:
    """Axis-angle rows (n, 3) to unit quaternions (n, 4) as (w, x, y, z)."""
    angle = np.linalg.norm(aa, axis=1)
    half = 0.5 * angle
    # sin(half)/angle tends to 1/2 as the angle goes to 0; the series keeps it exact there.
    small = angle < 1e-6
    k = np.where(small, 0.5 - angle * angle / 48.0, np.sin(half) / np.where(small, 1.0, angle))
    return np.concatenate([np.cos(half)[:, None], aa * k[:, None]], axis=1)


def _to_axis_angle(q: np.ndarray) -> np.ndarray:
    w = np.clip(q[:, 0], -1.0, 1.0)
    v = q[:, 1:]
    s = np.linalg.norm(v, axis=1)
    angle = 2.0 * np.arctan2(s, w)
    small = s < 1e-9
    k = np.where(small, 2.0, angle / np.where(small, 1.0, s))
    return v * k[:, None]


def _slerp(qa: np.ndarray, qb: np.ndarray, w: float) -> np.ndarray:
    dot = np.sum(qa * qb, axis=1)
    qb = np.where(dot[:, None] < 0.0, -qb, qb)  # take the short way round
    dot = np.abs(dot)
    theta = np.arccos(np.clip(dot, -1.0, 1.0))
    sin_t = np.sin(theta)
    near = sin_t < 1e-6
    safe = np.where(near, 1.0, sin_t)
    ka = np.where(near, 1.0 - w, np.sin((1.0 - w) * theta) / safe)
    kb = np.where(near, w, np.sin(w * theta) / safe)
    q = qa * ka[:, None] + qb * kb[:, None]
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def blend(a: np.ndarray, b: np.ndarray, w: float, out: np.ndarray) -> np.ndarray:
    """``out = (1-w)·a + w·b`` with slerp for the rotation triples; ``out`` may alias ``a`` or ``b``."""
    w = float(min(max(w, 0.0), 1.0))
    if w <= 0.0:
        out[:] = a
        return out
    if w >= 1.0:
        out[:] = b
        return out
    rot = _to_axis_angle(_slerp(_to_quat(a[_ROT_INDEX].astype(np.float64)),
                                _to_quat(b[_ROT_INDEX].astype(np.float64)), w))
    np.add(a * (1.0 - w), b * w, out=out, casting="unsafe")
    out[_ROT_INDEX] = rot
    return out


def sample_loop(keys: np.ndarray, t: float, out: np.ndarray, fps: int = MOTION_FPS) -> np.ndarray:
    """The pose of a looping track ``keys`` (K, D) at ``t`` seconds, interpolated between keyframes."""
    count = keys.shape[0]
    if count == 0:
        out[:] = 0.0
        return out
    f = (t * fps) % count
    i = int(f)
    return blend(keys[i % count], keys[(i + 1) % count], f - i, out)
