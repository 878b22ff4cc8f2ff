"""EWA splatting projection in numba, following gsplat's conventions.

OpenCV camera (+x right, +y down, +z forward). For a Gaussian at camera point (x, y, z) with
camera-space covariance V·Vᵀ: mean2d = (fx·x/z + cx, fy·y/z + cy) (pixel centres at +0.5);
the Jacobian uses x/z, y/z clamped to 1.3× the field of view (gsplat's limits); the 2D covariance
gets 0.3 px² added to its diagonal; conic = its inverse (a, b, c); radius = ceil(extend·√λmax) with
extend = min(3, √(2 ln(255·opacity))) (opacity-aware 3σ). Culled (radius 0): behind the near plane,
past the far plane, opacity < 1/255, singular covariance, or wholly outside the image.

The maths runs in float32 vector lanes (:func:`ewa`): kernels gather a block of Gaussians into a
per-thread scratch of rows, run one branch-free loop over it, and copy the results out
(mesh_project.py explains why that shape is what LLVM vectorises).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np


EPS2D = 0.3
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


BLOCK = 1024  # Gaussians per parallel work item of the vectorised kernels
PITCH = BLOCK + 16  # floats between scratch rows: rows exactly 4 KiB apart share L1 sets and ran 6× slower


def pack_blocks(rows: np.ndarray) -> np.ndarray:
    """Per-Gaussian constants (R, N) as float32 block-major rows (blocks, R, PITCH), flattened: the layout
    the vector loops read a block's row r of from ``[r·PITCH + k]`` of its slice."""
    count, n = rows.shape
    blocks = -(-n // BLOCK)
    padded = np.zeros((count, blocks * BLOCK), np.float32)
    padded[:, :n] = rows
    packed = np.zeros((blocks, count, PITCH), np.float32)
    packed[:, :, :BLOCK] = padded.reshape(count, blocks, BLOCK).transpose(1, 0, 2)
    return packed.reshape(-1)


def scratch_for_threads(rows: int) -> np.ndarray:
    """A scratch of ``rows`` rows per numba thread (a thread's id picks its own)."""
    return np.zeros((nb.config.NUMBA_NUM_THREADS, rows * PITCH), np.float32)


@nb.njit(cache=True, nogil=True, inline="always")
def lens32(ln):
    """:func:`lens` as float32 lanes."""
    f32 = np.float32
    return (f32(ln[0]), f32(ln[1]), f32(ln[2]), f32(ln[3]), f32(ln[4]), f32(ln[5]), f32(ln[6]), f32(ln[7]),
            f32(ln[8]), f32(ln[9]), f32(ln[10]), f32(ln[11]))


@nb.njit(cache=True, nogil=True, inline="always")
def ewa(x, y, z, v0, v1, v2, v3, v4, v5, v6, v7, v8, extend, ln):
    """Project one Gaussian in float32, branch-free (so a loop of it runs in vector lanes).

    Camera point (x, y, z), covariance factor V (row-major v0..v8), ``extend`` = :func:`extent` of its
    opacity, ``ln`` = :func:`lens32`. Returns (radius, mx, my, conic a, b, c): radius and conic 0 when
    culled, means 0 when behind the near or past the far plane. det(Σ) is |t×u|² + ε(|t|² + |u|²) + ε²
    with t, u the rows of J·V (Cauchy–Binet): a·c − b² without its cancellation, which float32 could
    not afford; λmax's discriminant is ((a − c)/2)² + b² for the same reason.
    """
    f32 = np.float32
    fx, fy, cx, cy, near, far, width, height = ln[0], ln[1], ln[2], ln[3], ln[4], ln[5], ln[6], ln[7]
    eps, zero, half, one = f32(EPS2D), f32(0.0), f32(0.5), f32(1.0)
    zs = max(z, f32(1e-30))  # culled below when z <= near; this only keeps the lanes finite
    rz = one / zs
    tx = zs * min(ln[9], max(ln[8], x * rz))
    ty = zs * min(ln[11], max(ln[10], y * rz))
    j00, j02 = fx * rz, -fx * tx * rz * rz
    j11, j12 = fy * rz, -fy * ty * rz * rz
    ta, tb, tc = j00 * v0 + j02 * v6, j00 * v1 + j02 * v7, j00 * v2 + j02 * v8
    ua, ub, uc = j11 * v3 + j12 * v6, j11 * v4 + j12 * v7, j11 * v5 + j12 * v8
    tt = ta * ta + tb * tb + tc * tc
    uu = ua * ua + ub * ub + uc * uc
    ca, cb, cc = tt + eps, ta * ua + tb * ub + tc * uc, uu + eps
    wa, wb, wc = tb * uc - tc * ub, tc * ua - ta * uc, ta * ub - tb * ua
    det = wa * wa + wb * wb + wc * wc + eps * (tt + uu) + eps * eps
    hd = half * (ca - cc)
    radius = np.ceil(extend * math.sqrt(half * (ca + cc) + math.sqrt(max(f32(0.01), hd * hd + cb * cb))))
    mx, my = fx * x * rz + cx, fy * y * rz + cy
    in_depth = (z > near) & (z < far)
    keep = (in_depth & (extend > zero) & (radius > zero) & (mx + radius > zero) & (mx - radius < width)
            & (my + radius > zero) & (my - radius < height))
    # selects into locals (a conditional store in the caller would become a slow masked store); a culled
    # lane's values may be inf or NaN (a point behind the camera), so they are selected away, not scaled
    inv = one / det
    qa, qb, qc = cc * inv, -cb * inv, ca * inv
    return (radius if keep else zero, mx if in_depth else zero, my if in_depth else zero, qa if keep else zero,
            qb if keep else zero, qc if keep else zero)


@nb.njit(cache=True, nogil=True, inline="always")
def project_point(view, ln, px, py, pz, m0, m1, m2, m3, m4, m5, m6, m7, m8, extend):
    """:func:`ewa` of a Gaussian at world point p with world covariance factor M (row-major m0..m8).

    ``view`` = :func:`view32`. Returns (z, radius, mx, my, conic a, b, c); the camera point is
    W·p + t and the camera-space factor V = W·M.
    """
    w0, w1, w2, w3, w4, w5, w6, w7, w8 = view[0], view[1], view[2], view[3], view[4], view[5], view[6], view[7], view[8]
    x = w0 * px + w1 * py + w2 * pz + view[9]
    y = w3 * px + w4 * py + w5 * pz + view[10]
    z = w6 * px + w7 * py + w8 * pz + view[11]
    v0, v1, v2 = w0 * m0 + w1 * m3 + w2 * m6, w0 * m1 + w1 * m4 + w2 * m7, w0 * m2 + w1 * m5 + w2 * m8
    v3, v4, v5 = w3 * m0 + w4 * m3 + w5 * m6, w3 * m1 + w4 * m4 + w5 * m7, w3 * m2 + w4 * m5 + w5 * m8
    v6, v7, v8 = w6 * m0 + w7 * m3 + w8 * m6, w6 * m1 + w7 * m4 + w8 * m7, w6 * m2 + w7 * m5 + w8 * m8
    radius, mx, my, ca, cb, cc = ewa(x, y, z, v0, v1, v2, v3, v4, v5, v6, v7, v8, extend, ln)
    return z, radius, mx, my, ca, cb, cc


@nb.njit(cache=True, nogil=True, inline="always")
def store_results(k, row, s, z, radius, mx, my, ca, cb, cc):
    """Put one Gaussian's results in scratch rows ``row..row+6`` (z, radius, mx, my, conic)."""
    s[row * PITCH + k] = z
    s[(row + 1) * PITCH + k] = radius
    s[(row + 2) * PITCH + k] = mx
    s[(row + 3) * PITCH + k] = my
    s[(row + 4) * PITCH + k] = ca
    s[(row + 5) * PITCH + k] = cb
    s[(row + 6) * PITCH + k] = cc


@nb.njit(cache=True, nogil=True)
def copy_results(lo, m, row, s, means2d, conics, radii, depths, visible):
    """Scratch rows ``row..row+6`` of Gaussians ``lo..lo+m`` into the frame's arrays."""
    for k in range(m):
        i = lo + k
        depths[i] = s[row * PITCH + k]
        r = s[(row + 1) * PITCH + k]
        radii[i] = r
        visible[i] = 1 if r > 0.0 else 0
        means2d[i, 0], means2d[i, 1] = s[(row + 2) * PITCH + k], s[(row + 3) * PITCH + k]
        conics[i, 0], conics[i, 1] = s[(row + 4) * PITCH + k], s[(row + 5) * PITCH + k]
        conics[i, 2] = s[(row + 6) * PITCH + k]


WORLD_ROWS = 18  # scratch of project_world: mean (3), quaternion (4), scale (3), extent (1), results (7)


@nb.njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def _world_block(m, view, ln, s):
    f32 = np.float32
    one, two = f32(1.0), f32(2.0)
    for k in range(m):
        px, py, pz = s[k], s[PITCH + k], s[2 * PITCH + k]
        qw, qx, qy, qz = s[3 * PITCH + k], s[4 * PITCH + k], s[5 * PITCH + k], s[6 * PITCH + k]
        sx, sy, sz = s[7 * PITCH + k], s[8 * PITCH + k], s[9 * PITCH + k]
        inv = one / math.sqrt(max(qw * qw + qx * qx + qy * qy + qz * qz, f32(1e-30)))
        qw, qx, qy, qz = qw * inv, qx * inv, qy * inv, qz * inv
        # M = R(q)·diag(s)
        m0, m1, m2 = (one - two * (qy * qy + qz * qz)) * sx, two * (qx * qy - qw * qz) * sy, two * (qx * qz + qw * qy) * sz
        m3, m4, m5 = two * (qx * qy + qw * qz) * sx, (one - two * (qx * qx + qz * qz)) * sy, two * (qy * qz - qw * qx) * sz
        m6, m7, m8 = two * (qx * qz - qw * qy) * sx, two * (qy * qz + qw * qx) * sy, (one - two * (qx * qx + qy * qy)) * sz
        z, radius, mx, my, ca, cb, cc = project_point(view, ln, px, py, pz, m0, m1, m2, m3, m4, m5, m6, m7, m8,
                                                      s[10 * PITCH + k])
        store_results(k, 11, s, z, radius, mx, my, ca, cb, cc)


@nb.njit(cache=True, nogil=True)
def _world_run(blk, n, means, quats, scales, opacities, view, ln, means2d, conics, radii, depths, visible, s):
    lo = blk * BLOCK
    m = min(n, lo + BLOCK) - lo
    for k in range(m):  # gather into rows (scalar: the inputs are (N, 3|4) rows)
        i = lo + k
        s[k], s[PITCH + k], s[2 * PITCH + k] = means[i, 0], means[i, 1], means[i, 2]
        s[3 * PITCH + k], s[4 * PITCH + k] = quats[i, 0], quats[i, 1]
        s[5 * PITCH + k], s[6 * PITCH + k] = quats[i, 2], quats[i, 3]
        s[7 * PITCH + k], s[8 * PITCH + k], s[9 * PITCH + k] = scales[i, 0], scales[i, 1], scales[i, 2]
        s[10 * PITCH + k] = extent(np.float64(opacities[i]))
    _world_block(m, view, lens32(ln), s)
    copy_results(lo, m, 11, s, means2d, conics, radii, depths, visible)


@nb.njit(cache=True, nogil=True, inline="always")
def view32(viewmat):
    """The view's W (row-major) and t as a tuple of 12 float32 lanes."""
    f32 = np.float32
    return (f32(viewmat[0, 0]), f32(viewmat[0, 1]), f32(viewmat[0, 2]), f32(viewmat[1, 0]), f32(viewmat[1, 1]),
            f32(viewmat[1, 2]), f32(viewmat[2, 0]), f32(viewmat[2, 1]), f32(viewmat[2, 2]), f32(viewmat[0, 3]),
            f32(viewmat[1, 3]), f32(viewmat[2, 3]))


@nb.njit(cache=True, nogil=True, parallel=True)
def project_world(means, quats, scales, opacities, viewmat, cam, width, height, means2d, conics, radii, depths,
                  visible, scratch):
    """Project world-space Gaussians (quaternions w-first, linear scales); ``scratch`` of WORLD_ROWS rows."""
    ln = lens(cam, width, height)
    view = view32(viewmat)
    n = means.shape[0]
    for blk in nb.prange((n + BLOCK - 1) // BLOCK):
        _world_run(blk, n, means, quats, scales, opacities, view, ln, means2d, conics, radii, depths, visible,
                   scratch[nb.get_thread_id()])


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
