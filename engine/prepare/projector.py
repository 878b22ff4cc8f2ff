"""``SplatProjector``: project and depth-sort world-space Gaussians (no avatar needed)."""

from __future__ import annotations

import numpy as np

from ..errors import AvatarError, ErrorCode
from .frame import CameraArguments, PreparedFrame
from .project import WORLD_ROWS, project_world, scratch_for_threads
from .sort import RadixSorter


class SplatProjector:
    """Projects up to ``capacity`` Gaussians per call into buffers it owns (reused every call)."""

    def __init__(self, capacity: int, near_plane: float = 0.01, far_plane: float = 1e10) -> None:
        if capacity <= 0:
            raise AvatarError(ErrorCode.playbackInitFailed, f"capacity must be positive, not {capacity}")
        self.capacity = capacity
        self.near_plane, self.far_plane = near_plane, far_plane
        self._camera = CameraArguments(near_plane, far_plane)
        self._order = np.zeros(capacity, dtype=np.int32)
        self._means2d = np.zeros((capacity, 2), dtype=np.float32)
        self._conics = np.zeros((capacity, 3), dtype=np.float32)
        self._radii = np.zeros(capacity, dtype=np.float32)
        self._depths = np.zeros(capacity, dtype=np.float32)
        self._opacities = np.zeros(capacity, dtype=np.float32)
        self._colors = np.zeros((capacity, 3), dtype=np.float32)
        self._visible = np.zeros(capacity, dtype=np.uint8)
        self._sorter = RadixSorter(capacity)
        self._scratch = scratch_for_threads(WORLD_ROWS)

    def __call__(self, means, quats, scales, opacities, colors, viewmat, K, width: int, height: int) -> PreparedFrame:
        """``means`` (N,3), ``quats`` (N,4) w-first, ``scales`` (N,3) linear, ``opacities`` (N,), ``colors`` (N,3)."""
        n = len(means)
        if n > self.capacity:
            raise AvatarError(ErrorCode.playbackInitFailed,
                              f"{n} Gaussians exceed this projector's capacity {self.capacity}; make a larger one")
        shapes = {"means": (means, (n, 3)), "quats": (quats, (n, 4)), "scales": (scales, (n, 3)),
                  "opacities": (opacities, (n,)), "colors": (colors, (n, 3))}
        for name, (arr, shape) in shapes.items():
            if np.shape(arr) != shape:
                raise AvatarError(ErrorCode.playbackInitFailed, f"{name} must have shape {shape}, not {np.shape(arr)}")
        self._camera.set(viewmat, K, width, height)
        self._opacities[:n] = opacities
        self._colors[:n] = colors
        project_world(np.asarray(means, np.float32), np.asarray(quats, np.float32), np.asarray(scales, np.float32),
                      self._opacities[:n], self._camera.viewmat, self._camera.cam, int(width), int(height), self._means2d, self._conics,
                      self._radii, self._depths, self._visible, self._scratch)
        count = self._sorter.sort_visible(self._depths[:n], self._visible[:n], self._order)
        return PreparedFrame(int(width), int(height), count, self._order[:n], self._means2d[:n], self._conics[:n],
                             self._radii[:n], self._depths[:n], self._opacities[:n], self._colors[:n])
