"""Bind and project triangle-bound Gaussians in one vectorised pass: the prepare stage's hot loop.

Gaussians are stored sorted by parent triangle and processed in blocks of ``BLOCK``. Per block, a
gather loop copies each Gaussian's three triangle corners into a per-thread scratch (one row per
coordinate), then one branch-free float32 loop — which LLVM compiles to 8-wide AVX2 code — computes
per Gaussian its triangle's frame (as ``bind.py``), the camera-space mean A·μ + b and covariance factor
A·L (A = W·R·k, b = W·T + t, L = R(q)·diag(exp s) precomputed), and the EWA projection, radius and cull
of ``project.py``; a copy loop writes the frame's arrays. The frame is recomputed per Gaussian rather
than per triangle: at 1.4–5 Gaussians per triangle, 8 lanes of it cost less than a scalar pass.

Why this shape: LLVM vectorises a loop only if it can prove its stores miss its loads. With its
inputs in one packed constant array and its outputs in the scratch that proof is one runtime check
(with five output arrays it needs hundreds and gives up), and ``error_model="numpy"`` keeps numba's
ZeroDivisionError branch out of the loop. Rows of the scratch and of the packed inputs are a little
more than 4 KiB apart: rows exactly 4 KiB apart share L1 sets and ran 6× slower.

Precision: float32 throughout (see :func:`.project.ewa` for the cancellation-free det and λmax);
depths, means and conics agree with the float64 reference to float32 rounding.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .bind import TINY
from .project import (BLOCK, PITCH, copy_results, lens, lens32, pack_blocks, project_point, store_results,
                      view32)

LOCALS = 13  # packed per-Gaussian constants: μ (3), L (9), extent (1)
ROWS = 16  # scratch rows: the triangle's corners (9), then the results (7)


def pack_locals(local_xyz: np.ndarray, local_factor: np.ndarray, extents: np.ndarray) -> np.ndarray:
    """The per-Gaussian constants as float32 (blocks, 13, PITCH) flattened: block-major rows of μ, L, extent."""
    return pack_blocks(np.concatenate([np.asarray(local_xyz, np.float32).T, np.asarray(local_factor, np.float32).T,
                                       np.asarray(extents, np.float32)[None]]))


@nb.njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def _project_block(m, loc, view, ln, s):
    """Results of Gaussians ``0..m`` of a block: corners in ``s`` rows 0..8, constants in the block's ``loc``.

    Indices are ``row·PITCH + k`` with k the loop counter (known ≥ 0), so numba's negative-index
    wrap-around folds away and the loads stay contiguous vector loads.
    """
    f32 = np.float32
    half, one, third, tiny = f32(0.5), f32(1.0), f32(1.0 / 3.0), f32(TINY)
    for k in range(m):
        # the triangle's frame: columns a (first edge), n (normal), c = a × n; scale kk; centroid T
        x0, y0, z0 = s[k], s[PITCH + k], s[2 * PITCH + k]
        ex, ey, ez = s[3 * PITCH + k] - x0, s[4 * PITCH + k] - y0, s[5 * PITCH + k] - z0
        gx, gy, gz = s[6 * PITCH + k] - x0, s[7 * PITCH + k] - y0, s[8 * PITCH + k] - z0
        length = max(math.sqrt(ex * ex + ey * ey + ez * ez), tiny)
        il = one / length
        ax, ay, az = ex * il, ey * il, ez * il
        nx, ny, nz = ay * gz - az * gy, az * gx - ax * gz, ax * gy - ay * gx
        hgt = max(math.sqrt(nx * nx + ny * ny + nz * nz), tiny)
        ih = one / hgt
        nx, ny, nz = nx * ih, ny * ih, nz * ih
        bx, by, bz = ay * nz - az * ny, az * nx - ax * nz, ax * ny - ay * nx
        kk = half * (length + hgt)
        # the world point p = kk·R·μ + T and factor M = kk·R·L
        m0, m1, m2 = kk * loc[k], kk * loc[PITCH + k], kk * loc[2 * PITCH + k]
        px = ax * m0 + nx * m1 + bx * m2 + x0 + (ex + gx) * third
        py = ay * m0 + ny * m1 + by * m2 + y0 + (ey + gy) * third
        pz = az * m0 + nz * m1 + bz * m2 + z0 + (ez + gz) * third
        l0, l1, l2 = kk * loc[3 * PITCH + k], kk * loc[4 * PITCH + k], kk * loc[5 * PITCH + k]
        l3, l4, l5 = kk * loc[6 * PITCH + k], kk * loc[7 * PITCH + k], kk * loc[8 * PITCH + k]
        l6, l7, l8 = kk * loc[9 * PITCH + k], kk * loc[10 * PITCH + k], kk * loc[11 * PITCH + k]
        r0, r1, r2 = ax * l0 + nx * l3 + bx * l6, ax * l1 + nx * l4 + bx * l7, ax * l2 + nx * l5 + bx * l8
        r3, r4, r5 = ay * l0 + ny * l3 + by * l6, ay * l1 + ny * l4 + by * l7, ay * l2 + ny * l5 + by * l8
        r6, r7, r8 = az * l0 + nz * l3 + bz * l6, az * l1 + nz * l4 + bz * l7, az * l2 + nz * l5 + bz * l8
        z, radius, mx, my, ca, cb, cc = project_point(view, ln, px, py, pz, r0, r1, r2, r3, r4, r5, r6, r7, r8,
                                                      loc[12 * PITCH + k])
        store_results(k, 9, s, z, radius, mx, my, ca, cb, cc)


@nb.njit(cache=True, nogil=True)
def _block(blk, n, vertices, faces, parent, loc, view, ln, means2d, conics, radii, depths, visible, s):
    lo = blk * BLOCK
    m = min(n, lo + BLOCK) - lo
    current = -1
    c0 = c1 = c2 = c3 = c4 = c5 = c6 = c7 = c8 = np.float32(0.0)
    for k in range(m):  # gather (scalar: indirect); Gaussians are sorted by triangle, so once per run
        f = parent[lo + k]
        if f != current:
            current = f
            i0, i1, i2 = faces[f, 0], faces[f, 1], faces[f, 2]
            c0, c1, c2 = vertices[i0, 0], vertices[i0, 1], vertices[i0, 2]
            c3, c4, c5 = vertices[i1, 0], vertices[i1, 1], vertices[i1, 2]
            c6, c7, c8 = vertices[i2, 0], vertices[i2, 1], vertices[i2, 2]
        s[k], s[PITCH + k], s[2 * PITCH + k] = c0, c1, c2
        s[3 * PITCH + k], s[4 * PITCH + k], s[5 * PITCH + k] = c3, c4, c5
        s[6 * PITCH + k], s[7 * PITCH + k], s[8 * PITCH + k] = c6, c7, c8
    _project_block(m, loc[blk * LOCALS * PITCH:(blk + 1) * LOCALS * PITCH], view, lens32(ln), s)
    copy_results(lo, m, 9, s, means2d, conics, radii, depths, visible)


@nb.njit(cache=True, nogil=True, parallel=True)
def project_mesh(vertices, faces, viewmat, parent, loc, cam, width, height, means2d, conics, radii, depths, visible,
                 scratch):
    """Bind and project the Gaussians (sorted by ``parent``) into the frame arrays.

    ``vertices`` float32 (V,3) posed; ``loc`` from :func:`pack_locals`; ``viewmat`` float64 (4,4);
    ``cam`` = [fx, fy, cx, cy, near, far]; ``scratch`` of :data:`ROWS` rows per thread
    (:func:`.project.scratch_for_threads`).
    """
    ln = lens(cam, width, height)
    view = view32(viewmat)
    n = parent.shape[0]
    for blk in nb.prange((n + BLOCK - 1) // BLOCK):
        _block(blk, n, vertices, faces, parent, loc, view, ln, means2d, conics, radii, depths, visible,
               scratch[nb.get_thread_id()])
