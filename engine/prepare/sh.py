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

MAX_SH_DEGREE = 3
BLOCK = 2048  # Gaussians per parallel work item
C0 = 0.28209479177387814
C1 = 0.4886025119029199
C2 = (1.0925484305920792, -1.0925484305920792, 0.31539156525252005, -1.0925484305920792, 0.5462742152960396)
C3 = (-0.5900435899266435, 2.890611442640554, -0.4570457994644658, 0.3731763325901154, -0.4570457994644658,
      1.445305721320277, -0.5900435899266435)


def coefficient_count(degree: int) -> int:
    return (degree + 1) ** 2


@nb.njit(cache=True, nogil=True)
def _sh_run(lo, hi, degree, coeffs, means2d, depths, radii, cam, rot, colors):
    fx, fy, cx, cy = cam[0], cam[1], cam[2], cam[3]
    for i in range(lo, hi):
        if not radii[i] > 0.0:
            continue
        z = np.float64(depths[i])
        xc, yc = (np.float64(means2d[i, 0]) - cx) * z / fx, (np.float64(means2d[i, 1]) - cy) * z / fy
        x = rot[0, 0] * xc + rot[1, 0] * yc + rot[2, 0] * z  # Wᵀ·x_cam: the ray in model space
        y = rot[0, 1] * xc + rot[1, 1] * yc + rot[2, 1] * z
        w = rot[0, 2] * xc + rot[1, 2] * yc + rot[2, 2] * z
        inv = 1.0 / math.sqrt(x * x + y * y + w * w)
        x, y, w = x * inv, y * inv, w * inv
        xx, yy, zz, xy, yz, xz = x * x, y * y, w * w, x * y, y * w, x * w
        # the basis once per Gaussian, shared by the three colour channels
        b1, b2, b3 = -C1 * y, C1 * w, -C1 * x
        b4, b5, b6, b7, b8 = C2[0] * xy, C2[1] * yz, C2[2] * (2.0 * zz - xx - yy), C2[3] * xz, C2[4] * (xx - yy)
        b9, b10 = C3[0] * y * (3.0 * xx - yy), C3[1] * xy * w
        b11, b12 = C3[2] * y * (4.0 * zz - xx - yy), C3[3] * w * (2.0 * zz - 3.0 * xx - 3.0 * yy)
        b13, b14, b15 = C3[4] * x * (4.0 * zz - xx - yy), C3[5] * w * (xx - yy), C3[6] * x * (xx - 3.0 * yy)
        for c in range(3):
            s = C0 * coeffs[i, 0, c]
            if degree >= 1:
                s += b1 * coeffs[i, 1, c] + b2 * coeffs[i, 2, c] + b3 * coeffs[i, 3, c]
            if degree >= 2:
                s += (b4 * coeffs[i, 4, c] + b5 * coeffs[i, 5, c] + b6 * coeffs[i, 6, c] + b7 * coeffs[i, 7, c]
                      + b8 * coeffs[i, 8, c])
            if degree >= 3:
                s += (b9 * coeffs[i, 9, c] + b10 * coeffs[i, 10, c] + b11 * coeffs[i, 11, c]
                      + b12 * coeffs[i, 12, c] + b13 * coeffs[i, 13, c] + b14 * coeffs[i, 14, c]
                      + b15 * coeffs[i, 15, c])
            colors[i, c] = min(1.0, max(0.0, s + 0.5))


@nb.njit(cache=True, nogil=True, parallel=True)
def shade(degree, coeffs, means2d, depths, radii, cam, rot, colors):
    """Fill ``colors[i]`` (N,3) of every splat with ``radii[i] > 0`` from SH ``coeffs`` (N, ≥(degree+1)², 3).

    ``cam`` starts (fx, fy, cx, cy) of the projection that made ``means2d``; ``rot`` is the view matrix
    (world→camera; its upper-left 3×3 is read).
    """
    n = coeffs.shape[0]
    for blk in nb.prange((n + BLOCK - 1) // BLOCK):
        _sh_run(blk * BLOCK, min(n, (blk + 1) * BLOCK), degree, coeffs, means2d, depths, radii, cam, rot, colors)


class ShShader:
    """Evaluates one Gaussian set's SH coefficients into a colour buffer it owns (made once)."""

    def __init__(self, coeffs: np.ndarray, degree: int) -> None:
        available = int(round(coeffs.shape[1] ** 0.5)) - 1
        if not 1 <= degree <= min(available, MAX_SH_DEGREE):
            raise AvatarError(ErrorCode.playbackInitFailed,
                              f"SH degree must be 1..{min(available, MAX_SH_DEGREE)} for these coefficients, "
                              f"not {degree}")
        self.degree = int(degree)
        # only the coefficients this degree reads: less memory traffic per frame
        self._coeffs = np.ascontiguousarray(coeffs[:, :coefficient_count(degree)], dtype=np.float32)
        self.colors = np.zeros((coeffs.shape[0], 3), np.float32)

    def __call__(self, means2d, depths, radii, viewmat, cam) -> np.ndarray:
        """``viewmat`` float64 (4,4) and ``cam`` float64 [fx, fy, cx, cy, ...] of the frame just projected."""
        shade(self.degree, self._coeffs, means2d, depths, radii, cam, viewmat, self.colors)
        return self.colors
