"""``AvatarPreparer``: pose → posed head → bound Gaussians → projected, culled, depth-sorted splats.

The per-frame path is three numba kernels (deform, fused bind+project, radix sort) writing into
buffers made once here, so a frame allocates no arrays. Binding and projection are fused and
vectorised (mesh_project.py): each Gaussian's constant local factor L = R(q)·diag(exp s) is
precomputed and packed with its mean and extent, so its camera-space mean is A·μ + b and its
covariance (A·L)(A·L)ᵀ with A, b its triangle's frame folded with the view — the same maths as
``bind_world`` followed by ``project_world``, in one pass of 8-wide float32 lanes.
"""

from __future__ import annotations

import numba
import numpy as np

from ..avatar.model import GaussianSet, HeadModel
from ..errors import AvatarError, ErrorCode
from .bind import bind_world, triangle_frames
from .deform import Deformer
from .frame import CameraArguments, PreparedFrame
from .mesh_project import ROWS, pack_locals, project_mesh
from .project import extents_of, local_factors, scratch_for_threads
from .sh import ShShader
from .sort import RadixSorter


def splat_budget(g: GaussianSet, max_splats: int | None) -> np.ndarray:
    """Indices of the Gaussians kept under a budget: the largest opacity × projected-area proxy, in original order."""
    if max_splats is None or max_splats >= g.count:
        return np.arange(g.count)
    if max_splats <= 0:
        raise AvatarError(ErrorCode.playbackInitFailed, f"max_splats must be positive, not {max_splats}")
    importance = g.opacity.astype(np.float64) * np.exp(g.local_log_scale.astype(np.float64).sum(axis=1) * (2 / 3))
    return np.sort(np.argsort(-importance, kind="stable")[:max_splats])


class AvatarPreparer:
    """Prepares frames of one avatar for one view; the returned frame's arrays are reused by the next call.

    Splats are stored sorted by parent triangle (and cut to ``max_splats``), so frame row i is not
    Gaussian i of the avatar's set; ``splat_index[i]`` says which Gaussian it is. ``threads`` caps the
    numba threads its kernels use (default: numba's setting for the calling thread). ``sh_degree`` caps the
    spherical-harmonic degree of view-dependent colour (None: all the set carries; 0: base colours only).
    """

    def __init__(self, head: HeadModel, gaussians: GaussianSet, max_splats: int | None = None,
                 near_plane: float = 0.01, far_plane: float = 1e10, threads: int | None = None,
                 sh_degree: int | None = None) -> None:
        if threads is not None and not 1 <= threads <= numba.config.NUMBA_NUM_THREADS:
            raise AvatarError(ErrorCode.playbackInitFailed,
                              f"threads must be 1..{numba.config.NUMBA_NUM_THREADS} (or None for all), not {threads!r}")
        self.threads = threads  # e.g. 1 when a CPU rasterizer already keeps every core busy
        if gaussians.count and int(gaussians.parent.max()) >= len(head.faces):
            raise AvatarError(ErrorCode.invalidAvatarMetadata,
                              f"Gaussian parents index triangle {int(gaussians.parent.max())} but the head has "
                              f"{len(head.faces)} triangles; the Gaussian set belongs to another head")
        keep = splat_budget(gaussians, max_splats)
        keep = keep[np.argsort(gaussians.parent[keep], kind="stable")]  # by triangle: frames are read in order
        n = len(keep)
        self.head = head
        self.splat_index = keep
        self.near_plane, self.far_plane = near_plane, far_plane
        self._camera = CameraArguments(near_plane, far_plane)
        self._deformer = Deformer(head)
        self._pose = np.zeros(self._deformer.dim, dtype=np.float32)
        self._faces = np.ascontiguousarray(head.faces, dtype=np.int32)
        self._parent = np.ascontiguousarray(gaussians.parent[keep], dtype=np.int32)
        self._local_xyz = np.ascontiguousarray(gaussians.local_xyz[keep], dtype=np.float32)
        self._local_rot = np.ascontiguousarray(gaussians.local_rot[keep], dtype=np.float32)
        self._local_log_scale = np.ascontiguousarray(gaussians.local_log_scale[keep], dtype=np.float32)
        self._locals = pack_locals(self._local_xyz, local_factors(self._local_rot, self._local_log_scale),
                                   extents_of(gaussians.opacity[keep]))
        self._scratch = scratch_for_threads(ROWS)
        self._visible = np.zeros(n, dtype=np.uint8)
        self._sorter = RadixSorter(max(n, 1))
        self._order = np.zeros(n, dtype=np.int32)
        self._means2d = np.zeros((n, 2), dtype=np.float32)
        self._conics = np.zeros((n, 3), dtype=np.float32)
        self._radii = np.zeros(n, dtype=np.float32)
        self._depths = np.zeros(n, dtype=np.float32)
        self._opacities = np.ascontiguousarray(gaussians.opacity[keep], dtype=np.float32)
        self._colors = np.ascontiguousarray(gaussians.color[keep], dtype=np.float32)
        degree = gaussians.sh_degree if sh_degree is None else min(max(int(sh_degree), 0), gaussians.sh_degree)
        self._sh = ShShader(gaussians.sh[keep], degree) if degree > 0 else None
        self.sh_degree = degree

    @property
    def splat_count(self) -> int:
        return int(self._parent.shape[0])

    @property
    def vertices(self) -> np.ndarray:
        """Posed vertices (V, 3) of the latest call (reused buffer)."""
        return self._deformer.vertices

    def __call__(self, pose: np.ndarray, viewmat, K, width: int, height: int) -> PreparedFrame:
        # copy into our own buffer: no per-frame array, and a float64 sum of float32s is finite iff all are
        if np.shape(pose) != self._pose.shape or not np.isfinite(np.sum(pose, dtype=np.float64)):
            raise AvatarError(ErrorCode.animationPlayerNotInitialized,
                              f"pose must be {self._deformer.dim} finite floats (20 + {self.head.expression_count} "
                              f"expressions), got shape {np.shape(pose)}")
        self._pose[:] = pose
        self._camera.set(viewmat, K, width, height)
        previous = numba.get_num_threads()
        if self.threads is not None:
            numba.set_num_threads(self.threads)  # thread-local in numba: restored below
        try:
            verts = self._deformer(self._pose)
            project_mesh(verts, self._faces, self._camera.viewmat, self._parent, self._locals, self._camera.cam,
                         int(width), int(height), self._means2d, self._conics, self._radii, self._depths,
                         self._visible, self._scratch)
            count = self._sorter.sort_visible(self._depths, self._visible, self._order)
            colors = self._colors if self._sh is None else self._sh(self._means2d, self._depths, self._radii,
                                                                    self._camera.viewmat, self._camera.cam)
        finally:
            numba.set_num_threads(previous)
        return PreparedFrame(int(width), int(height), count, self._order, self._means2d, self._conics, self._radii,
                             self._depths, self._opacities, colors)

    def bound_gaussians(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """World means (N,3), quaternions (N,4, w first) and scales (N,3) for the latest pose (new arrays)."""
        f = len(self._faces)
        centroids, frames, scales = np.zeros((f, 3)), np.zeros((f, 3, 3)), np.zeros(f)
        triangle_frames(self.vertices, self._faces, centroids, frames, scales)
        n = self.splat_count
        means, quats, out_scales = (np.zeros((n, 3), np.float32), np.zeros((n, 4), np.float32),
                                    np.zeros((n, 3), np.float32))
        bind_world(centroids, frames, scales, self._parent, self._local_xyz, self._local_rot, self._local_log_scale,
                   means, quats, out_scales)
        return means, quats, out_scales
