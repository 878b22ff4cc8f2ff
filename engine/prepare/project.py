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

from .rotation import quat_to_matrix

EPS2D = 0.3
ALPHA_MIN = 1.0 / 255.0


@nb.njit(cache=True, nogil=True)
def _splat(i, x, y, z, v, opacity, cam, width, height, means2d, conics, radii, depths, visible):
    """Project one Gaussian (camera point, covariance factor ``v`` row-major 9-tuple); write row ``i``."""
    fx, fy, cx, cy, near, far = cam[0], cam[1], cam[2], cam[3], cam[4], cam[5]
    depths[i] = z
    radii[i] = 0.0
    visible[i] = 0
    if not (near < z < far) or not opacity >= ALPHA_MIN:
        return
    rz = 1.0 / z
    lim_x, lim_y = 0.3 * 0.5 * width / fx, 0.3 * 0.5 * height / fy
    tx = z * min((width - cx) / fx + lim_x, max(-(cx / fx + lim_x), x * rz))
    ty = z * min((height - cy) / fy + lim_y, max(-(cy / fy + lim_y), y * rz))
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
        return
    extend = min(3.0, math.sqrt(2.0 * math.log(opacity / ALPHA_MIN)))
    mid = 0.5 * (a + c)
    radius = math.ceil(extend * math.sqrt(mid + math.sqrt(max(0.01, mid * mid - det))))
    mx, my = fx * x * rz + cx, fy * y * rz + cy
    if radius <= 0.0 or mx + radius <= 0.0 or mx - radius >= width or my + radius <= 0.0 or my - radius >= height:
        return
    means2d[i, 0], means2d[i, 1] = mx, my
    conics[i, 0], conics[i, 1], conics[i, 2] = c / det, -b / det, a / det
    radii[i] = radius
    visible[i] = 1


@nb.njit(cache=True, nogil=True, parallel=True)
def project_world(means, quats, scales, opacities, viewmat, cam, width, height, means2d, conics, radii, depths,
                  visible):
    """Project world-space Gaussians (quaternions w-first, linear scales)."""
    for i in nb.prange(means.shape[0]):
        r = quat_to_matrix(np.float64(quats[i, 0]), np.float64(quats[i, 1]), np.float64(quats[i, 2]),
                           np.float64(quats[i, 3]))
        sx, sy, sz = np.float64(scales[i, 0]), np.float64(scales[i, 1]), np.float64(scales[i, 2])
        p = (np.float64(means[i, 0]), np.float64(means[i, 1]), np.float64(means[i, 2]))
        cam_p = (viewmat[0, 0] * p[0] + viewmat[0, 1] * p[1] + viewmat[0, 2] * p[2] + viewmat[0, 3],
                 viewmat[1, 0] * p[0] + viewmat[1, 1] * p[1] + viewmat[1, 2] * p[2] + viewmat[1, 3],
                 viewmat[2, 0] * p[0] + viewmat[2, 1] * p[1] + viewmat[2, 2] * p[2] + viewmat[2, 3])
        v = (  # V = W·R·diag(s)
            (viewmat[0, 0] * r[0] + viewmat[0, 1] * r[3] + viewmat[0, 2] * r[6]) * sx,
            (viewmat[0, 0] * r[1] + viewmat[0, 1] * r[4] + viewmat[0, 2] * r[7]) * sy,
            (viewmat[0, 0] * r[2] + viewmat[0, 1] * r[5] + viewmat[0, 2] * r[8]) * sz,
            (viewmat[1, 0] * r[0] + viewmat[1, 1] * r[3] + viewmat[1, 2] * r[6]) * sx,
            (viewmat[1, 0] * r[1] + viewmat[1, 1] * r[4] + viewmat[1, 2] * r[7]) * sy,
            (viewmat[1, 0] * r[2] + viewmat[1, 1] * r[5] + viewmat[1, 2] * r[8]) * sz,
            (viewmat[2, 0] * r[0] + viewmat[2, 1] * r[3] + viewmat[2, 2] * r[6]) * sx,
            (viewmat[2, 0] * r[1] + viewmat[2, 1] * r[4] + viewmat[2, 2] * r[7]) * sy,
            (viewmat[2, 0] * r[2] + viewmat[2, 1] * r[5] + viewmat[2, 2] * r[8]) * sz,
        )
        _splat(i, cam_p[0], cam_p[1], cam_p[2], v, np.float64(opacities[i]), cam, width, height,
               means2d, conics, radii, depths, visible)


@nb.njit(cache=True, nogil=True, parallel=True)
def project_bound(tri_a, tri_b, parent, local_xyz, local_factor, opacities, cam, width, height, means2d, conics,
                  radii, depths, visible):
    """Project triangle-bound Gaussians: camera point A·μ + b, covariance factor A·L (L = R(q)·diag(exp s))."""
    for i in nb.prange(parent.shape[0]):
        f = parent[i]
        a = tri_a[f]
        mu0, mu1, mu2 = np.float64(local_xyz[i, 0]), np.float64(local_xyz[i, 1]), np.float64(local_xyz[i, 2])
        x = a[0, 0] * mu0 + a[0, 1] * mu1 + a[0, 2] * mu2 + tri_b[f, 0]
        y = a[1, 0] * mu0 + a[1, 1] * mu1 + a[1, 2] * mu2 + tri_b[f, 1]
        z = a[2, 0] * mu0 + a[2, 1] * mu1 + a[2, 2] * mu2 + tri_b[f, 2]
        m = local_factor[i]
        v = (
            a[0, 0] * m[0] + a[0, 1] * m[3] + a[0, 2] * m[6], a[0, 0] * m[1] + a[0, 1] * m[4] + a[0, 2] * m[7],
            a[0, 0] * m[2] + a[0, 1] * m[5] + a[0, 2] * m[8], a[1, 0] * m[0] + a[1, 1] * m[3] + a[1, 2] * m[6],
            a[1, 0] * m[1] + a[1, 1] * m[4] + a[1, 2] * m[7], a[1, 0] * m[2] + a[1, 1] * m[5] + a[1, 2] * m[8],
            a[2, 0] * m[0] + a[2, 1] * m[3] + a[2, 2] * m[6], a[2, 0] * m[1] + a[2, 1] * m[4] + a[2, 2] * m[7],
            a[2, 0] * m[2] + a[2, 1] * m[5] + a[2, 2] * m[8],
        )
        _splat(i, x, y, z, v, np.float64(opacities[i]), cam, width, height, means2d, conics, radii, depths, visible)


def local_factors(local_rot: np.ndarray, local_log_scale: np.ndarray) -> np.ndarray:
    """L = R(q)·diag(exp s) per Gaussian, (N, 9) float32 row-major: constant, so computed once per avatar."""
    q = np.asarray(local_rot, np.float64)
    w, x, y, z = (q / np.linalg.norm(q, axis=1, keepdims=True)).T
    r = np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
                  2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
                  2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], 1).reshape(-1, 3, 3)
    return np.ascontiguousarray((r * np.exp(np.asarray(local_log_scale, np.float64))[:, None, :]).reshape(-1, 9),
                                dtype=np.float32)
