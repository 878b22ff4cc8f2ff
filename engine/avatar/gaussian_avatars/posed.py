"""World-space Gaussians of an avatar in one pose, in the avatar's own Gaussian order (for an imported run:
the order of ``point_cloud.ply``), to compare with GaussianAvatars' own output."""

from __future__ import annotations

import numpy as np


def posed_gaussians(avatar, pose: np.ndarray, precise: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(means (N,3), quaternions (N,4) w-first, scales (N,3))`` of ``avatar`` posed by ``pose``.

    By default the prepare stage's own numbers (float32, ``AvatarPreparer.bound_gaussians``): what is drawn.
    ``precise=True`` poses the mesh with the float64 reference of the prepare stage
    (``engine.prepare.reference.deform_reference``) and binds in float64: the equations without the float32
    deformation's rounding (about 1e-7 m per vertex, which turns small triangles' frames by up to ~1e-5).
    """
    from ...prepare import AvatarPreparer
    from ...prepare.bind import bind_world, triangle_frames
    from ...prepare.reference import deform_reference

    g = avatar.gaussians
    if precise:
        vertices = deform_reference(avatar.head, np.asarray(pose, np.float64))
        faces = np.ascontiguousarray(avatar.head.faces, np.int32)
        f, n = len(faces), g.count
        centroids, frames, scales = np.zeros((f, 3)), np.zeros((f, 3, 3)), np.zeros(f)
        triangle_frames(np.ascontiguousarray(vertices), faces, centroids, frames, scales)
        means, quats, out_scales = np.zeros((n, 3)), np.zeros((n, 4)), np.zeros((n, 3))
        bind_world(centroids, frames, scales, g.parent, g.local_xyz, g.local_rot, g.local_log_scale, means, quats,
                   out_scales)
        return means, quats, out_scales
    preparer = AvatarPreparer(avatar.head, g, sh_degree=0)
    # any valid view: only the posed mesh and the binding matter here, not the projection
    preparer(np.asarray(pose, np.float32), np.eye(4, dtype=np.float32), np.eye(3, dtype=np.float32), 8, 8)
    means, quats, scales = preparer.bound_gaussians()
    back = np.argsort(preparer.splat_index)  # preparer rows are sorted by triangle
    return means[back], quats[back], scales[back]
