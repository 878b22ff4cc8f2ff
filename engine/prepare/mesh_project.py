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

Precision: float32 throughout. det(Σ) is computed as |t×u|² + ε(|t|² + |u|²) + ε² with t, u the rows
of J·V (Cauchy–Binet), which equals a·c − b² without its cancellation, and λmax's discriminant as
((a − c)/2)² + b² for the same reason; depths, means and conics agree with the float64 reference
to float32 rounding. Conventions and culls are those of :mod:`.project`.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .bind import TINY
from .project import EPS2D, lens

BLOCK = 1024  # Gaussians per work item: the scratch (16 rows) stays in L2
PITCH = BLOCK + 16  # floats between scratch rows: see the module docstring
LOCALS = 13  # packed per-Gaussian constants: μ (3), L (9), extent (1)
CORNERS = 9  # scratch rows 0..8: the triangle's corners; 9..15: results
ROWS = 16


def pack_locals(local_xyz: np.ndarray, local_factor: np.ndarray, extents: np.ndarray) -> np.ndarray:
    """The per-Gaussian constants as float32 (blocks, 13, PITCH) flattened: block-major rows of μ, L, extent."""
    n = len(extents)
    blocks = -(-n // BLOCK)
    rows = np.zeros((LOCALS, blocks * BLOCK), np.float32)
    rows[0:3, :n] = np.asarray(local_xyz, np.float32).T
    rows[3:12, :n] = np.asarray(local_factor, np.float32).T
    rows[12, :n] = extents
    packed = np.zeros((blocks, LOCALS, PITCH), np.float32)
    packed[:, :, :BLOCK] = rows.reshape(LOCALS, blocks, BLOCK).transpose(1, 0, 2)
    return packed.reshape(-1)


def scratch_for_threads() -> np.ndarray:
    """One scratch row block per numba thread (a thread's id indexes it)."""
    return np.zeros((nb.config.NUMBA_NUM_THREADS, ROWS * PITCH), np.float32)


@nb.njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def _project_block(m, base, loc, view, ln, s):
    """Results of Gaussians ``0..m`` of a block (corners in ``s`` rows 0..8, constants at ``loc[base:]``)."""
    f32 = np.float32
    fx, fy, cx, cy = f32(ln[0]), f32(ln[1]), f32(ln[2]), f32(ln[3])
    near, far, width, height = f32(ln[4]), f32(ln[5]), f32(ln[6]), f32(ln[7])
    xlo, xhi, ylo, yhi = f32(ln[8]), f32(ln[9]), f32(ln[10]), f32(ln[11])
    w0, w1, w2, w3, w4, w5, w6, w7, w8 = view[0], view[1], view[2], view[3], view[4], view[5], view[6], view[7], view[8]
    t0w, t1w, t2w = view[9], view[10], view[11]
    eps, zero, half, one, third, floor_ = f32(EPS2D), f32(0.0), f32(0.5), f32(1.0), f32(1.0 / 3.0), f32(0.01)
    tiny = f32(TINY)
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
        q = base + k
        # μ and L in the triangle's frame, scaled: p = kk·R·μ + T (world), M = kk·R·L
        m0, m1, m2 = kk * loc[q], kk * loc[q + PITCH], kk * loc[q + 2 * PITCH]
        px = ax * m0 + nx * m1 + bx * m2 + x0 + (ex + gx) * third
        py = ay * m0 + ny * m1 + by * m2 + y0 + (ey + gy) * third
        pz = az * m0 + nz * m1 + bz * m2 + z0 + (ez + gz) * third
        x = w0 * px + w1 * py + w2 * pz + t0w
        y = w3 * px + w4 * py + w5 * pz + t1w
        z = w6 * px + w7 * py + w8 * pz + t2w
        l0, l1, l2 = kk * loc[q + 3 * PITCH], kk * loc[q + 4 * PITCH], kk * loc[q + 5 * PITCH]
        l3, l4, l5 = kk * loc[q + 6 * PITCH], kk * loc[q + 7 * PITCH], kk * loc[q + 8 * PITCH]
        l6, l7, l8 = kk * loc[q + 9 * PITCH], kk * loc[q + 10 * PITCH], kk * loc[q + 11 * PITCH]
        r0, r1, r2 = ax * l0 + nx * l3 + bx * l6, ax * l1 + nx * l4 + bx * l7, ax * l2 + nx * l5 + bx * l8
        r3, r4, r5 = ay * l0 + ny * l3 + by * l6, ay * l1 + ny * l4 + by * l7, ay * l2 + ny * l5 + by * l8
        r6, r7, r8 = az * l0 + nz * l3 + bz * l6, az * l1 + nz * l4 + bz * l7, az * l2 + nz * l5 + bz * l8
        # V = W·M: the camera-space covariance factor
        v0, v1, v2 = w0 * r0 + w1 * r3 + w2 * r6, w0 * r1 + w1 * r4 + w2 * r7, w0 * r2 + w1 * r5 + w2 * r8
        v3, v4, v5 = w3 * r0 + w4 * r3 + w5 * r6, w3 * r1 + w4 * r4 + w5 * r7, w3 * r2 + w4 * r5 + w5 * r8
        v6, v7, v8 = w6 * r0 + w7 * r3 + w8 * r6, w6 * r1 + w7 * r4 + w8 * r7, w6 * r2 + w7 * r5 + w8 * r8
        # EWA: J with x/z, y/z clamped; T = J·V (rows t, u); Σ = T·Tᵀ + εI
        zs = max(z, tiny)  # culled below when z <= near; this only keeps the lanes finite
        rz = one / zs
        tx = zs * min(xhi, max(xlo, x * rz))
        ty = zs * min(yhi, max(ylo, y * rz))
        j00, j02 = fx * rz, -fx * tx * rz * rz
        j11, j12 = fy * rz, -fy * ty * rz * rz
        ta, tb, tc = j00 * v0 + j02 * v6, j00 * v1 + j02 * v7, j00 * v2 + j02 * v8
        ua, ub, uc = j11 * v3 + j12 * v6, j11 * v4 + j12 * v7, j11 * v5 + j12 * v8
        tt = ta * ta + tb * tb + tc * tc
        uu = ua * ua + ub * ub + uc * uc
        ca, cb, cc = tt + eps, ta * ua + tb * ub + tc * uc, uu + eps
        ca_, cb_, cc_ = tb * uc - tc * ub, tc * ua - ta * uc, ta * ub - tb * ua
        det = ca_ * ca_ + cb_ * cb_ + cc_ * cc_ + eps * (tt + uu) + eps * eps
        hd = half * (ca - cc)
        extent = loc[q + 12 * PITCH]
        radius = np.ceil(extent * math.sqrt(half * (ca + cc) + math.sqrt(max(floor_, hd * hd + cb * cb))))
        mx, my = fx * x * rz + cx, fy * y * rz + cy
        in_depth = (z > near) & (z < far)
        keep = (in_depth & (extent > zero) & (radius > zero) & (mx + radius > zero) & (mx - radius < width)
                & (my + radius > zero) & (my - radius < height))
        inv = one / det
        # selects into locals first: a conditional store would become a (slow) masked store
        radius = radius if keep else zero
        mx = mx if in_depth else zero
        my = my if in_depth else zero
        inv = inv if keep else zero
        s[9 * PITCH + k] = z
        s[10 * PITCH + k] = radius
        s[11 * PITCH + k] = mx
        s[12 * PITCH + k] = my
        s[13 * PITCH + k] = cc * inv
        s[14 * PITCH + k] = -cb * inv
        s[15 * PITCH + k] = ca * inv


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
    _project_block(m, blk * LOCALS * PITCH, loc, view, ln, s)
    for k in range(m):
        i = lo + k
        depths[i] = s[9 * PITCH + k]
        r = s[10 * PITCH + k]
        radii[i] = r
        visible[i] = 1 if r > 0.0 else 0
        means2d[i, 0], means2d[i, 1] = s[11 * PITCH + k], s[12 * PITCH + k]
        conics[i, 0], conics[i, 1], conics[i, 2] = s[13 * PITCH + k], s[14 * PITCH + k], s[15 * PITCH + k]


@nb.njit(cache=True, nogil=True, parallel=True)
def project_mesh(vertices, faces, viewmat, parent, loc, cam, width, height, means2d, conics, radii, depths, visible,
                 scratch):
    """Bind and project the Gaussians (sorted by ``parent``) into the frame arrays.

    ``vertices`` float32 (V,3) posed; ``loc`` from :func:`pack_locals`; ``viewmat`` float64 (4,4);
    ``cam`` = [fx, fy, cx, cy, near, far]; ``scratch`` from :func:`scratch_for_threads`.
    """
    ln = lens(cam, width, height)
    f32 = np.float32
    view = (f32(viewmat[0, 0]), f32(viewmat[0, 1]), f32(viewmat[0, 2]), f32(viewmat[1, 0]), f32(viewmat[1, 1]),
            f32(viewmat[1, 2]), f32(viewmat[2, 0]), f32(viewmat[2, 1]), f32(viewmat[2, 2]), f32(viewmat[0, 3]),
            f32(viewmat[1, 3]), f32(viewmat[2, 3]))  # W row-major, then t
    n = parent.shape[0]
    for blk in nb.prange((n + BLOCK - 1) // BLOCK):
        _block(blk, n, vertices, faces, parent, loc, view, ln, means2d, conics, radii, depths, visible,
               scratch[nb.get_thread_id()])
