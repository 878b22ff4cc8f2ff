"""``sh.npz``: the spherical-harmonic colour coefficients of a package's Gaussians (docs/avatar-format.md)."""

from __future__ import annotations

import numpy as np

from .validate import as_float, bad, check_keys

SH_KEYS = ("coefficients",)
MAX_COEFFICIENT = 1e3  # trained 3DGS coefficients stay within a few units; beyond this is corrupt data


def sh_from_arrays(arrays: dict, count: int, degree: int, what: str = "sh.npz") -> np.ndarray:
    """float32 (N, (degree+1)², 3), finite and bounded; ``invalidAvatarMetadata`` naming the defect."""
    check_keys(arrays, SH_KEYS, what)
    coeffs = as_float(arrays, "coefficients", (count, (degree + 1) ** 2, 3), what)
    if np.abs(coeffs).max(initial=0.0) > MAX_COEFFICIENT:
        raise bad(what, f"coefficients must lie within ±{MAX_COEFFICIENT:g} (SH colour coefficients)")
    return coeffs


def sh_arrays(coeffs: np.ndarray) -> dict[str, np.ndarray]:
    return {"coefficients": np.ascontiguousarray(coeffs, dtype=np.float32)}
