"""Smooth scalar helpers shared by the demo generator's geometry, blendshapes and colours."""

from __future__ import annotations

import numpy as np


def gauss(d, sigma):
    """Unnormalised Gaussian bump: 1 at ``d == 0``."""
    return np.exp(-0.5 * (np.asarray(d) / sigma) ** 2)


def smoothstep(edge0, edge1, x):
    """Hermite step from 0 at ``edge0`` to 1 at ``edge1`` (either order)."""
    t = np.clip((np.asarray(x, dtype=np.float64) - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def rotate_x(points, center, angle):
    """Rotate ``points`` (N,3) about the x axis through ``center`` by per-point ``angle`` (radians)."""
    p = points - center
    c, s = np.cos(angle), np.sin(angle)
    out = p.copy()
    out[:, 1] = c * p[:, 1] - s * p[:, 2]
    out[:, 2] = s * p[:, 1] + c * p[:, 2]
    return out + center
