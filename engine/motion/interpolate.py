"""Pose interpolation between two keyframes (numba, allocation-free).

Translation, eyelids and expression are lerped; the axis-angle triples (global rotation, neck, jaw,
each eye: ``layout.ROTATION_TRIPLES``) go axis-angle → unit quaternion → slerp (short way round) →
axis-angle, so a head turn keeps constant angular speed and never passes through a squashed pose.
Maths in float64 so repeated blends do not drift.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .layout import ROTATION_TRIPLES

_FIRST_ROT = ROTATION_TRIPLES[0]
_LAST_ROT_END = ROTATION_TRIPLES[-1] + 3  # the triples are contiguous: columns 3..18


@nb.njit(cache=True, nogil=True, inline="always")
def _aa_to_quat(x, y, z):
    angle = math.sqrt(x * x + y * y + z * z)
    # sin(angle/2)/angle → 1/2 as angle → 0; the series keeps it exact there.
    k = 0.5 - angle * angle / 48.0 if angle < 1e-6 else math.sin(0.5 * angle) / angle
    return math.cos(0.5 * angle), x * k, y * k, z * k


@nb.njit(cache=True, nogil=True, inline="always")
def _quat_to_aa(w, x, y, z):
    if w < 0.0:  # same rotation, angle in [0, π]
        w, x, y, z = -w, -x, -y, -z
    s = math.sqrt(x * x + y * y + z * z)
    k = 2.0 / w if s < 1e-9 else 2.0 * math.atan2(s, w) / s
    return x * k, y * k, z * k


@nb.njit(cache=True, nogil=True)
def slerp_axis_angle(a, b, w, out):
    """``out[0:3]`` = rotation a·(a⁻¹b)^w of the axis-angle vectors ``a[0:3]``, ``b[0:3]``."""
    aw, ax, ay, az = _aa_to_quat(np.float64(a[0]), np.float64(a[1]), np.float64(a[2]))
    bw, bx, by, bz = _aa_to_quat(np.float64(b[0]), np.float64(b[1]), np.float64(b[2]))
    dot = aw * bw + ax * bx + ay * by + az * bz
    if dot < 0.0:  # q and -q are the same rotation: take the short arc
        bw, bx, by, bz, dot = -bw, -bx, -by, -bz, -dot
    dot = min(dot, 1.0)
    theta = math.acos(dot)
    sin_t = math.sin(theta)
    if sin_t < 1e-6:
        ka, kb = 1.0 - w, w
    else:
        ka, kb = math.sin((1.0 - w) * theta) / sin_t, math.sin(w * theta) / sin_t
    qw, qx, qy, qz = ka * aw + kb * bw, ka * ax + kb * bx, ka * ay + kb * by, ka * az + kb * bz
    norm = math.sqrt(qw * qw + qx * qx + qy * qy + qz * qz)
    out[0], out[1], out[2] = _quat_to_aa(qw / norm, qx / norm, qy / norm, qz / norm)


@nb.njit(cache=True, nogil=True)
def blend_pose(a, b, w, out):
    """``out`` = pose ``w`` of the way from ``a`` to ``b`` (w clamped to [0, 1]); ``out`` may alias ``a`` or ``b``."""
    w = min(max(w, 0.0), 1.0)
    for j in range(_FIRST_ROT, _LAST_ROT_END, 3):
        slerp_axis_angle(a[j:j + 3], b[j:j + 3], w, out[j:j + 3])
    for i in range(out.shape[0]):
        if i < _FIRST_ROT or i >= _LAST_ROT_END:
            out[i] = (1.0 - w) * a[i] + w * b[i]
