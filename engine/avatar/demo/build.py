"""Assemble the demo :class:`~engine.avatar.avatar.Avatar` from its generated parts."""

from __future__ import annotations

import numpy as np

from ..avatar import Avatar
from ..model import CameraConfig, HeadModel
from . import expressions, gaussians, idle, mesh, rigging

DEMO_SEED = 20240611
DEMO_ID = "demo"
DEMO_NAME = "Facecast demo head"
# Frames head and shoulders-free neck: the face fills about two thirds of the height.
DEMO_CAMERA = CameraConfig(position=(0.0, 0.0, 0.62), target=(0.0, -0.01, 0.0), fov=28.0, near=0.05, far=10.0)


def make_demo_avatar(seed: int = DEMO_SEED) -> Avatar:
    """Build the demo avatar; the same seed always gives bit-identical arrays."""
    rng = np.random.default_rng(seed)
    m = mesh.build_mesh()
    head = HeadModel(
        v_template=m.vertices.astype(np.float32),
        faces=m.faces.astype(np.int32),
        expr_dirs=expressions.expression_dirs(m, rng).astype(np.float32),
        eyelid_dirs=expressions.eyelid_dirs(m).astype(np.float32),
        pose_dirs=rigging.pose_correctives(m).astype(np.float32),
        j_regressor=rigging.joint_regressor(m).astype(np.float32),
        weights=rigging.skinning_weights(m).astype(np.float32),
    )
    return Avatar(
        id=DEMO_ID,
        name=DEMO_NAME,
        head=head,
        gaussians=gaussians.demo_gaussians(m, rng),
        idle=idle.idle_loop(head.expression_count),
        camera=DEMO_CAMERA,
    )
