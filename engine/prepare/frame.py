"""``PreparedFrame``: what every renderer consumes (docs/internals.md, "Prepare stage")."""

from __future__ import annotations

import attrs
import numpy as np

from ..errors import AvatarError, ErrorCode


@attrs.frozen(eq=False)
class PreparedFrame:
    """Projected, culled, depth-sorted splats of one frame.

    The arrays belong to the preparer/projector that returned this frame and are overwritten by its
    next call. ``order[:count]`` lists the visible splats nearest first; the other arrays are indexed
    by splat (N rows). ``conics`` (a, b, c) give σ = ½(a dx² + c dy²) + b dx dy with dx, dy from
    ``means2d`` in pixels (pixel centres at +0.5); ``radii`` is 0 for culled splats.
    """

    width: int
    height: int
    count: int
    order: np.ndarray
    means2d: np.ndarray
    conics: np.ndarray
    radii: np.ndarray
    depths: np.ndarray
    opacities: np.ndarray
    colors: np.ndarray


def camera_arguments(viewmat, K, width: int, height: int, near: float, far: float) -> tuple[np.ndarray, np.ndarray]:
    """Validate a view: ``(viewmat float64 (4,4), cam = [fx, fy, cx, cy, near, far])``."""
    vm = np.asarray(viewmat, dtype=np.float64)
    k = np.asarray(K, dtype=np.float64)
    if vm.shape != (4, 4) or k.shape != (3, 3):
        raise AvatarError(ErrorCode.playbackInitFailed,
                          f"viewmat must be (4, 4) and K (3, 3); got {vm.shape} and {k.shape}")
    if not (np.isfinite(vm).all() and np.isfinite(k).all()) or k[0, 0] <= 0 or k[1, 1] <= 0:
        raise AvatarError(ErrorCode.playbackInitFailed,
                          "viewmat and K must be finite with positive focal lengths K[0,0], K[1,1]")
    if int(width) <= 0 or int(height) <= 0:
        raise AvatarError(ErrorCode.playbackInitFailed,
                          f"render size must be positive, not {width}x{height}; give the container a non-zero size")
    return vm, np.array([k[0, 0], k[1, 1], k[0, 2], k[1, 2], near, far])
