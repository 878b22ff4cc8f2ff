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


class CameraArguments:
    """Validated view of one call, kept in preallocated arrays: ``viewmat`` float64 (4,4) and
    ``cam`` = [fx, fy, cx, cy, near, far]."""

    def __init__(self, near: float, far: float) -> None:
        if not 0.0 < near < far:
            raise AvatarError(ErrorCode.playbackInitFailed, f"need 0 < near_plane < far_plane, got {near}, {far}")
        self.viewmat = np.zeros((4, 4))
        self.cam = np.array([1.0, 1.0, 0.0, 0.0, near, far])

    def set(self, viewmat, K, width: int, height: int) -> None:
        if np.shape(viewmat) != (4, 4) or np.shape(K) != (3, 3):
            raise AvatarError(ErrorCode.playbackInitFailed,
                              f"viewmat must be (4, 4) and K (3, 3); got {np.shape(viewmat)} and {np.shape(K)}")
        self.viewmat[:] = viewmat
        fx, fy, cx, cy = float(K[0][0]), float(K[1][1]), float(K[0][2]), float(K[1][2])
        if not (np.isfinite(self.viewmat).all() and np.isfinite((fx, fy, cx, cy)).all()) or fx <= 0 or fy <= 0:
            raise AvatarError(ErrorCode.playbackInitFailed,
                              "viewmat and K must be finite with positive focal lengths K[0,0], K[1,1]")
        if int(width) <= 0 or int(height) <= 0:
            raise AvatarError(ErrorCode.playbackInitFailed,
                              f"render size must be positive, not {width}x{height}; give the container a non-zero size")
        self.cam[:4] = fx, fy, cx, cy
