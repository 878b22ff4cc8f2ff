"""World-space Gaussians of an avatar in one pose, in the avatar's own Gaussian order (for an imported run:
the order of ``point_cloud.ply``), to compare with GaussianAvatars' own output."""

from __future__ import annotations

import numpy as np


def posed_gaussians(avatar, pose: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(means (N,3), quaternions (N,4) w-first, scales (N,3))`` float32 of ``avatar`` posed by ``pose``.

    Computed by the prepare stage itself (``AvatarPreparer.bound_gaussians``), so this is what is drawn.
    """
    from ...prepare import AvatarPreparer

    preparer = AvatarPreparer(avatar.head, avatar.gaussians, sh_degree=0)
    # any valid view: only the posed mesh and the binding matter here, not the projection
    preparer(np.asarray(pose, np.float32), np.eye(4, dtype=np.float32), np.eye(3, dtype=np.float32), 8, 8)
    means, quats, scales = preparer.bound_gaussians()
    back = np.argsort(preparer.splat_index)  # preparer rows are sorted by triangle
    return means[back], quats[back], scales[back]
