"""GaussianAvatars binding in numba: Gaussians ride on the triangles of the posed mesh.

Per triangle (v0, v1, v2): centroid T, frame R with columns a0 = (v1−v0)/|v1−v0| (first edge),
a1 = normalise(a0 × (v2−v0)) (face normal), a2 = a0 × a1, and scale k = ½(|v1−v0| + height over
that edge). A Gaussian with local mean μ, rotation q, log-scale s is at k·R·μ + T with rotation
R·R(q) and scale k·exp(s).

``bind_world`` produces world means / quaternions / scales (any renderer can use them).
The fused per-frame path (mesh_project.py) recomputes the same frame per Gaussian in float32 lanes.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .rotation import matrix_to_quat, mul3, quat_to_matrix

BLOCK = 1024  # items per parallel work item
TINY = 1e-30  # floor of an edge length or triangle height (float64)


@nb.njit(cache=True, nogil=True, inline="always")
def _corners(vertices, faces, f):
    """The 9 coordinates of triangle ``f`` as float64 scalars (no row views: they would touch refcounts)."""
    i0, i1, i2 = faces[f, 0], faces[f, 1], faces[f, 2]
    return (np.float64(vertices[i0, 0]), np.float64(vertices[i0, 1]), np.float64(vertices[i0, 2]),
            np.float64(vertices[i1, 0]), np.float64(vertices[i1, 1]), np.float64(vertices[i1, 2]),
            np.float64(vertices[i2, 0]), np.float64(vertices[i2, 1]), np.float64(vertices[i2, 2]))


@nb.njit(cache=True, nogil=True, inline="always")
def _frame(c):
    """(T, R row-major 9-tuple, k) of the triangle with corner coordinates ``c``."""
    x0, y0, z0 = c[0], c[1], c[2]
    ex, ey, ez = c[3] - x0, c[4] - y0, c[5] - z0
    fx, fy, fz = c[6] - x0, c[7] - y0, c[8] - z0
    # A triangle collapsed by an extreme pose would divide by zero here (numba raises, and the render
    # thread would die): the floor keeps the frame finite, the Gaussians shrink onto the centroid.
    length = max(math.sqrt(ex * ex + ey * ey + ez * ez), TINY)
    ax, ay, az = ex / length, ey / length, ez / length
    nx, ny, nz = ay * fz - az * fy, az * fx - ax * fz, ax * fy - ay * fx
    height = max(math.sqrt(nx * nx + ny * ny + nz * nz), TINY)
    nx, ny, nz = nx / height, ny / height, nz / height
    bx, by, bz = ay * nz - az * ny, az * nx - ax * nz, ax * ny - ay * nx
    t = ((3 * x0 + ex + fx) / 3, (3 * y0 + ey + fy) / 3, (3 * z0 + ez + fz) / 3)
    r = (ax, nx, bx, ay, ny, by, az, nz, bz)  # columns a0, a1, a2
    return t, r, 0.5 * (length + height)


@nb.njit(cache=True, nogil=True)
def _frames_run(lo, hi, vertices, faces, centroids, frames, scales):
    for f in range(lo, hi):
        t, r, k = _frame(_corners(vertices, faces, f))
        for a in range(3):
            centroids[f, a] = t[a]
            for b in range(3):
                frames[f, a, b] = r[3 * a + b]
        scales[f] = k


@nb.njit(cache=True, nogil=True, parallel=True)
def triangle_frames(vertices, faces, centroids, frames, scales):
    """Fill centroids (F,3), frames (F,3,3) and scales (F,) from posed ``vertices``."""
    n = faces.shape[0]
    for blk in nb.prange((n + BLOCK - 1) // BLOCK):  # plain loops per block, so the helpers inline
        _frames_run(blk * BLOCK, min(n, (blk + 1) * BLOCK), vertices, faces, centroids, frames, scales)


@nb.njit(cache=True, nogil=True)
def _bind_run(lo, hi, centroids, frames, scales, parent, local_xyz, local_rot, local_log_scale, means, quats,
              out_scales):
    for n in range(lo, hi):
        f = parent[n]
        k = scales[f]
        for a in range(3):
            means[n, a] = k * (frames[f, a, 0] * local_xyz[n, 0] + frames[f, a, 1] * local_xyz[n, 1]
                               + frames[f, a, 2] * local_xyz[n, 2]) + centroids[f, a]
            out_scales[n, a] = k * math.exp(local_log_scale[n, a])
        q = quat_to_matrix(np.float64(local_rot[n, 0]), np.float64(local_rot[n, 1]), np.float64(local_rot[n, 2]),
                           np.float64(local_rot[n, 3]))
        r = (frames[f, 0, 0], frames[f, 0, 1], frames[f, 0, 2], frames[f, 1, 0], frames[f, 1, 1], frames[f, 1, 2],
             frames[f, 2, 0], frames[f, 2, 1], frames[f, 2, 2])
        m = mul3(r, q)
        w, x, y, z = matrix_to_quat(m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8])
        quats[n, 0], quats[n, 1], quats[n, 2], quats[n, 3] = w, x, y, z


@nb.njit(cache=True, nogil=True, parallel=True)
def bind_world(centroids, frames, scales, parent, local_xyz, local_rot, local_log_scale, means, quats, out_scales):
    """World means (N,3), unit quaternions (N,4, w first, w >= 0) and scales (N,3) of bound Gaussians."""
    n = parent.shape[0]
    for blk in nb.prange((n + BLOCK - 1) // BLOCK):
        _bind_run(blk * BLOCK, min(n, (blk + 1) * BLOCK), centroids, frames, scales, parent, local_xyz, local_rot,
                  local_log_scale, means, quats, out_scales)
