"""Scalar rotation helpers for the prepare kernels (inlined into callers): axis-angle, quaternions, 3×3."""

from __future__ import annotations

import math

import numba as nb


@nb.njit(cache=True, nogil=True)
def rodrigues_into(x, y, z, out):
    """Write the rotation matrix of axis-angle (x, y, z) into ``out`` (3, 3), float64 maths."""
    theta = math.sqrt(x * x + y * y + z * z)
    if theta < 1e-12:
        for r in range(3):
            for c in range(3):
                out[r, c] = 1.0 if r == c else 0.0
        return
    kx, ky, kz = x / theta, y / theta, z / theta
    s, c1 = math.sin(theta), 1.0 - math.cos(theta)
    out[0, 0] = 1.0 - c1 * (ky * ky + kz * kz)
    out[0, 1] = -s * kz + c1 * kx * ky
    out[0, 2] = s * ky + c1 * kx * kz
    out[1, 0] = s * kz + c1 * kx * ky
    out[1, 1] = 1.0 - c1 * (kx * kx + kz * kz)
    out[1, 2] = -s * kx + c1 * ky * kz
    out[2, 0] = -s * ky + c1 * kx * kz
    out[2, 1] = s * kx + c1 * ky * kz
    out[2, 2] = 1.0 - c1 * (kx * kx + ky * ky)


@nb.njit(cache=True, nogil=True, inline="always")
def quat_to_matrix(w, x, y, z):
    """Rotation matrix entries (row-major 9-tuple) of a quaternion (w, x, y, z), normalised here."""
    n = math.sqrt(w * w + x * x + y * y + z * z)
    w, x, y, z = w / n, x / n, y / n, z / n
    return (1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
            2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
            2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y))


@nb.njit(cache=True, nogil=True)
def matrix_to_quat(m00, m01, m02, m10, m11, m12, m20, m21, m22):
    """Unit quaternion (w, x, y, z), w >= 0, of a rotation matrix (Shepperd's method, stable for every angle)."""
    tr = m00 + m11 + m22
    if tr > 0.0:
        s = 2.0 * math.sqrt(tr + 1.0)
        q = (0.25 * s, (m21 - m12) / s, (m02 - m20) / s, (m10 - m01) / s)
    elif m00 > m11 and m00 > m22:
        s = 2.0 * math.sqrt(1.0 + m00 - m11 - m22)
        q = ((m21 - m12) / s, 0.25 * s, (m01 + m10) / s, (m02 + m20) / s)
    elif m11 > m22:
        s = 2.0 * math.sqrt(1.0 + m11 - m00 - m22)
        q = ((m02 - m20) / s, (m01 + m10) / s, 0.25 * s, (m12 + m21) / s)
    else:
        s = 2.0 * math.sqrt(1.0 + m22 - m00 - m11)
        q = ((m10 - m01) / s, (m02 + m20) / s, (m12 + m21) / s, 0.25 * s)
    sign = -1.0 if q[0] < 0.0 else 1.0
    return sign * q[0], sign * q[1], sign * q[2], sign * q[3]


@nb.njit(cache=True, nogil=True, inline="always")
def mul3(r, q):
    """Product of two 3×3 matrices given as row-major 9-tuples."""
    return (r[0] * q[0] + r[1] * q[3] + r[2] * q[6], r[0] * q[1] + r[1] * q[4] + r[2] * q[7],
            r[0] * q[2] + r[1] * q[5] + r[2] * q[8], r[3] * q[0] + r[4] * q[3] + r[5] * q[6],
            r[3] * q[1] + r[4] * q[4] + r[5] * q[7], r[3] * q[2] + r[4] * q[5] + r[5] * q[8],
            r[6] * q[0] + r[7] * q[3] + r[8] * q[6], r[6] * q[1] + r[7] * q[4] + r[8] * q[7],
            r[6] * q[2] + r[7] * q[5] + r[8] * q[8])
