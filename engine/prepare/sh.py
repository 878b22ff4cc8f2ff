"""View-dependent colour: real spherical harmonics (degree ≤ 3) evaluated per Gaussian per frame.

Basis, coefficient order (l² + l + m, DC first) and signs are 3D Gaussian Splatting's, which is what
GaussianAvatars trains: colour = clamp(Σ c_k · Y_k(d) + 0.5) with d the unit direction from the camera
centre to the Gaussian in model space. The prepare stage already has each visible splat's camera-space
point (pixel mean and depth), so d = Wᵀ·x_cam needs no world-space pass: x_cam = ((u − cx)·z/fx,
(v − cy)·z/fy, z). Colours are clamped to [0, 1] (3DGS clamps at 0 only; every backend stores colour in
[0, 1], and clamping here keeps them identical). Culled splats keep their previous colour: no renderer
reads them.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ..errors import AvatarError, ErrorCode
from .project import BLOCK, PITCH, pack_blocks, scratch_for_threads

MAX_SH_DEGREE = 3
ROWS = 6  # scratch: ray (u, v, z) in, colour (r, g, b) out
C0 = 0.28209479177387814
C1 = 0.4886025119029199
C2 = (1.0925484305920792, -1.0925484305920792, 0.31539156525252005, -1.0925484305920792, 0.5462742152960396)
C3 = (-0.5900435899266435, 2.890611442640554, -0.4570457994644658, 0.3731763325901154, -0.4570457994644658,
      1.445305721320277, -0.5900435899266435)


def coefficient_count(degree: int) -> int:
    return (degree + 1) ** 2


@nb.njit(cache=True, nogil=True, inline="always")
def coeffs_rows(degree):
    return 3 * (degree + 1) * (degree + 1)


@nb.njit(cache=True, nogil=True, inline="always")
def _channel(coeffs, o, degree, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, b13, b14, b15):
    """One colour channel: Σ basis · coefficient (coefficient j at ``o + 3j·PITCH``) + ½, clamped to [0, 1]."""
    acc = np.float32(C0) * coeffs[o]
    if degree >= 1:
        acc += b1 * coeffs[o + 3 * PITCH] + b2 * coeffs[o + 6 * PITCH] + b3 * coeffs[o + 9 * PITCH]
    if degree >= 2:
        acc += (b4 * coeffs[o + 12 * PITCH] + b5 * coeffs[o + 15 * PITCH] + b6 * coeffs[o + 18 * PITCH]
                + b7 * coeffs[o + 21 * PITCH] + b8 * coeffs[o + 24 * PITCH])
    if degree >= 3:
        acc += (b9 * coeffs[o + 27 * PITCH] + b10 * coeffs[o + 30 * PITCH] + b11 * coeffs[o + 33 * PITCH]
                + b12 * coeffs[o + 36 * PITCH] + b13 * coeffs[o + 39 * PITCH] + b14 * coeffs[o + 42 * PITCH]
                + b15 * coeffs[o + 45 * PITCH])
    return min(np.float32(1.0), max(np.float32(0.0), acc + np.float32(0.5)))


@nb.njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def _shade_block(m, degree, coeffs, cam, rot, s):
    """Colours of Gaussians ``0..m`` of a block: rays (pixel u, v and depth) in scratch rows 0..2, colours
    out to rows 3..5; coefficient j of channel c at ``coeffs[(3j + c)·PITCH + k]`` of the block's slice.

    One loop per degree, each with the degree a constant: the loop body is then branch-free, which is
    what lets LLVM run it in 8-wide float32 lanes (it does not unswitch a body this size).
    """
    if degree == 1:
        _shade_loop(m, 1, coeffs, cam, rot, s)
    elif degree == 2:
        _shade_loop(m, 2, coeffs, cam, rot, s)
    else:
        _shade_loop(m, 3, coeffs, cam, rot, s)


@nb.njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"}, inline="always")
def _shade_loop(m, degree, coeffs, cam, rot, s):
    f32 = np.float32
    fx, fy, cx, cy = f32(cam[0]), f32(cam[1]), f32(cam[2]), f32(cam[3])
    r00, r01, r02, r10, r11, r12 = f32(rot[0, 0]), f32(rot[0, 1]), f32(rot[0, 2]), f32(rot[1, 0]), f32(rot[1, 1]), f32(rot[1, 2])
    r20, r21, r22 = f32(rot[2, 0]), f32(rot[2, 1]), f32(rot[2, 2])
    k1 = f32(C1)
    k20, k21, k22, k23, k24 = f32(C2[0]), f32(C2[1]), f32(C2[2]), f32(C2[3]), f32(C2[4])
    k30, k31, k32, k33, k34, k35, k36 = f32(C3[0]), f32(C3[1]), f32(C3[2]), f32(C3[3]), f32(C3[4]), f32(C3[5]), f32(C3[6])
    one, two, three, four = f32(1.0), f32(2.0), f32(3.0), f32(4.0)
    for k in range(m):
        z = s[2 * PITCH + k]
        xc, yc = (s[k] - cx) * z / fx, (s[PITCH + k] - cy) * z / fy
        x = r00 * xc + r10 * yc + r20 * z  # Wᵀ·x_cam: the ray in model space
        y = r01 * xc + r11 * yc + r21 * z
        w = r02 * xc + r12 * yc + r22 * z
        inv = one / math.sqrt(max(x * x + y * y + w * w, f32(1e-30)))
        x, y, w = x * inv, y * inv, w * inv
        xx, yy, zz, xy, yz, xz = x * x, y * y, w * w, x * y, y * w, x * w
        b1, b2, b3 = -k1 * y, k1 * w, -k1 * x
        b4, b5, b6, b7, b8 = k20 * xy, k21 * yz, k22 * (two * zz - xx - yy), k23 * xz, k24 * (xx - yy)
        b9, b10 = k30 * y * (three * xx - yy), k31 * xy * w
        b11, b12 = k32 * y * (four * zz - xx - yy), k33 * w * (two * zz - three * xx - three * yy)
        b13, b14, b15 = k34 * x * (four * zz - xx - yy), k35 * w * (xx - yy), k36 * x * (xx - three * yy)
        q = k
        s[3 * PITCH + k] = _channel(coeffs, q, degree, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, b13, b14,
                                    b15)
        s[4 * PITCH + k] = _channel(coeffs, q + PITCH, degree, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12,
                                    b13, b14, b15)
        s[5 * PITCH + k] = _channel(coeffs, q + 2 * PITCH, degree, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11,
                                    b12, b13, b14, b15)


@nb.njit(cache=True, nogil=True)
def _block(blk, n, degree, coeffs, means2d, depths, radii, cam, rot, colors, s):
    lo = blk * BLOCK
    m = min(n, lo + BLOCK) - lo
    for k in range(m):
        i = lo + k
        s[k], s[PITCH + k], s[2 * PITCH + k] = means2d[i, 0], means2d[i, 1], depths[i]
    rows = coeffs_rows(degree) * PITCH
    _shade_block(m, degree, coeffs[blk * rows:(blk + 1) * rows], cam, rot, s)
    for k in range(m):
        i = lo + k
        if radii[i] > 0.0:
            colors[i, 0], colors[i, 1], colors[i, 2] = s[3 * PITCH + k], s[4 * PITCH + k], s[5 * PITCH + k]


@nb.njit(cache=True, nogil=True, parallel=True)
def shade(degree, coeffs, means2d, depths, radii, cam, rot, colors, scratch):
    """Fill ``colors[i]`` (N,3) of every splat with ``radii[i] > 0`` from packed SH ``coeffs``.

    ``coeffs`` is :func:`pack_coefficients` of this degree; ``cam`` starts (fx, fy, cx, cy) of the
    projection that made ``means2d``; ``rot`` is the view matrix (world→camera; its upper-left 3×3 is
    read); ``scratch`` (threads, ROWS·PITCH) float32.
    """
    n = means2d.shape[0]
    for blk in nb.prange((n + BLOCK - 1) // BLOCK):
        _block(blk, n, degree, coeffs, means2d, depths, radii, cam, rot, colors, scratch[nb.get_thread_id()])


def pack_coefficients(coeffs: np.ndarray, degree: int) -> np.ndarray:
    """(N, ≥(degree+1)², 3) coefficients as float32 block-major rows (blocks, 3·(degree+1)², PITCH), flattened."""
    n, count = coeffs.shape[0], coefficient_count(degree)
    return pack_blocks(np.asarray(coeffs[:, :count], np.float32).reshape(n, count * 3).T)  # row 3j + c


class ShShader:
    """Evaluates one Gaussian set's SH coefficients into a colour buffer it owns (made once)."""

    def __init__(self, coeffs: np.ndarray, degree: int) -> None:
        available = int(round(coeffs.shape[1] ** 0.5)) - 1
        if not 1 <= degree <= min(available, MAX_SH_DEGREE):
            raise AvatarError(ErrorCode.playbackInitFailed,
                              f"SH degree must be 1..{min(available, MAX_SH_DEGREE)} for these coefficients, "
                              f"not {degree}")
        self.degree = int(degree)
        # only the coefficients this degree reads, in the layout the vector loop streams
        self._coeffs = pack_coefficients(coeffs, degree)
        self._scratch = scratch_for_threads(ROWS)
        self.colors = np.zeros((coeffs.shape[0], 3), np.float32)

    def __call__(self, means2d, depths, radii, viewmat, cam) -> np.ndarray:
        """``viewmat`` float64 (4,4) and ``cam`` float64 [fx, fy, cx, cy, ...] of the frame just projected."""
        shade(self.degree, self._coeffs, means2d, depths, radii, cam, viewmat, self.colors, self._scratch)
        return self.colors
