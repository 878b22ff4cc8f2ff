"""EWA splatting projection in numba, following gsplat's conventions.

OpenCV camera (+x right, +y down, +z forward). For a Gaussian at camera point (x, y, z) with
camera-space covariance V·Vᵀ: mean2d = (fx·x/z + cx, fy·y/z + cy) (pixel centres at +0.5);
the Jacobian uses x/z, y/z clamped to 1.3× the field of view (gsplat's limits); the 2D covariance
gets 0.3 px² added to its diagonal; conic = its inverse (a, b, c); radius = ceil(extend·√λmax) with
extend = min(3, √(2 ln(255·opacity))) (opacity-aware 3σ). Culled (radius 0): behind the near plane,
past the far plane, opacity < 1/255, singular covariance, or wholly outside the image.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .rotation import mul3, quat_to_matrix

EPS2D = 0.3
GAUSSIAN_BLOCK = 2048  # Gaussians per parallel work item
ALPHA_MIN = 1.0 / 255.0


@nb.njit(cache=True, nogil=True, inline="always")
def extent(opacity):
    """σ a splat reaches before its alpha drops below 1/255: min(3, √(2 ln(255·opacity))); 0 if never visible."""
    if not opacity >= ALPHA_MIN:
        return 0.0
    return min(3.0, math.sqrt(2.0 * math.log(opacity / ALPHA_MIN)))


@nb.njit(cache=True, nogil=True)
def lens(cam, width, height):
    """Per-frame constants: (fx, fy, cx, cy, near, far, width, height, x/z limits lo, hi, y/z limits lo, hi)."""
    fx, fy, cx, cy = cam[0], cam[1], cam[2], cam[3]
    lim_x, lim_y = 0.3 * 0.5 * width / fx, 0.3 * 0.5 * height / fy  # gsplat: 1.3× the field of view
    return (fx, fy, cx, cy, cam[4], cam[5], np.float64(width), np.float64(height),
            -(cx / fx + lim_x), (width - cx) / fx + lim_x, -(cy / fy + lim_y), (height - cy) / fy + lim_y)


@nb.njit(cache=True, nogil=True, inline="always")
def _splat(x, y, z, v, extend, ln):
    """Project one Gaussian (camera point, covariance factor ``v`` row-major 9-tuple, ``extent`` of its opacity).

    ``ln`` is :func:`lens` of the camera. Returns ``(radius, mx, my, conic_a, conic_b, conic_c)``; radius 0
    means culled. Scalars only, so the call costs no reference counting inside the parallel loops.
    """
    fx, fy, cx, cy, near, far, width, height = ln[0], ln[1], ln[2], ln[3], ln[4], ln[5], ln[6], ln[7]
    if not (near < z < far) or extend <= 0.0:
        return 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
    rz = 1.0 / z
    tx = z * min(ln[9], max(ln[8], x * rz))
    ty = z * min(ln[11], max(ln[10], y * rz))
    j00, j02 = fx * rz, -fx * tx * rz * rz
    j11, j12 = fy * rz, -fy * ty * rz * rz
    # T = J·V (2×3); cov2d = T·Tᵀ
    t0, t1, t2 = j00 * v[0] + j02 * v[6], j00 * v[1] + j02 * v[7], j00 * v[2] + j02 * v[8]
    u0, u1, u2 = j11 * v[3] + j12 * v[6], j11 * v[4] + j12 * v[7], j11 * v[5] + j12 * v[8]
    a = t0 * t0 + t1 * t1 + t2 * t2 + EPS2D
    b = t0 * u0 + t1 * u1 + t2 * u2
    c = u0 * u0 + u1 * u1 + u2 * u2 + EPS2D
    det = a * c - b * b
    if not det > 0.0:
        return 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
    mid = 0.5 * (a + c)
    radius = math.ceil(extend * math.sqrt(mid + math.sqrt(max(0.01, mid * mid - det))))
    mx, my = fx * x * rz + cx, fy * y * rz + cy
    if radius <= 0.0 or mx + radius <= 0.0 or mx - radius >= width or my + radius <= 0.0 or my - radius >= height:
        return 0.0, mx, my, 0.0, 0.0, 0.0
    inv = 1.0 / det
    return radius, mx, my, c * inv, -b * inv, a * inv


@nb.njit(cache=True, nogil=True)
def _world_run(lo, hi, means, quats, scales, opacities, viewmat, ln, means2d, conics, radii, depths, visible):
    w = (viewmat[0, 0], viewmat[0, 1], viewmat[0, 2], viewmat[1, 0], viewmat[1, 1], viewmat[1, 2],
         viewmat[2, 0], viewmat[2, 1], viewmat[2, 2])
    for i in range(lo, hi):
        r = quat_to_matrix(np.float64(quats[i, 0]), np.float64(quats[i, 1]), np.float64(quats[i, 2]),
                           np.float64(quats[i, 3]))
        sx, sy, sz = np.float64(scales[i, 0]), np.float64(scales[i, 1]), np.float64(scales[i, 2])
        px, py, pz = np.float64(means[i, 0]), np.float64(means[i, 1]), np.float64(means[i, 2])
        x = w[0] * px + w[1] * py + w[2] * pz + viewmat[0, 3]
        y = w[3] * px + w[4] * py + w[5] * pz + viewmat[1, 3]
        z = w[6] * px + w[7] * py + w[8] * pz + viewmat[2, 3]
        v = mul3(w, mul3(r, (sx, 0.0, 0.0, 0.0, sy, 0.0, 0.0, 0.0, sz)))  # V = W·R·diag(s)
        radius, mx, my, ca, cb, cc = _splat(x, y, z, v, extent(np.float64(opacities[i])), ln)
        depths[i], radii[i], visible[i] = z, radius, 1 if radius > 0.0 else 0
        means2d[i, 0], means2d[i, 1] = mx, my
        conics[i, 0], conics[i, 1], conics[i, 2] = ca, cb, cc


@nb.njit(cache=True, nogil=True, parallel=True)
def project_world(means, quats, scales, opacities, viewmat, cam, width, height, means2d, conics, radii, depths,
                  visible):
    """Project world-space Gaussians (quaternions w-first, linear scales)."""
    ln = lens(cam, width, height)
    n = means.shape[0]
    for blk in nb.prange((n + GAUSSIAN_BLOCK - 1) // GAUSSIAN_BLOCK):  # plain loops per block, so helpers inline
        _world_run(blk * GAUSSIAN_BLOCK, min(n, (blk + 1) * GAUSSIAN_BLOCK), means, quats, scales, opacities,
                   viewmat, ln, means2d, conics, radii, depths, visible)


def extents_of(opacities: np.ndarray) -> np.ndarray:
    """:func:`extent` of every opacity, float32 (N,)."""
    op = np.asarray(opacities, np.float64)
    safe = np.maximum(op, ALPHA_MIN)
    return np.where(op >= ALPHA_MIN, np.minimum(3.0, np.sqrt(2.0 * np.log(safe / ALPHA_MIN))), 0.0).astype(np.float32)


def local_factors(local_rot: np.ndarray, local_log_scale: np.ndarray) -> np.ndarray:
    """L = R(q)·diag(exp s) per Gaussian, (N, 9) float32 row-major: constant, so computed once per avatar."""
    q = np.asarray(local_rot, np.float64)
    w, x, y, z = (q / np.linalg.norm(q, axis=1, keepdims=True)).T
    r = np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
                  2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
                  2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], 1).reshape(-1, 3, 3)
    return np.ascontiguousarray((r * np.exp(np.asarray(local_log_scale, np.float64))[:, None, :]).reshape(-1, 9),
                                dtype=np.float32)
