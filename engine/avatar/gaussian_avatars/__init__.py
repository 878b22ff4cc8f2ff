"""Import avatars trained with GaussianAvatars (Qian et al., CVPR 2024) and replay their tracked motion."""

from __future__ import annotations

from .importer import frame_camera, gaussian_avatars_flame, import_gaussian_avatars, motion_of_run
from .motion import keyframes_from_flame_params
from .posed import posed_gaussians
from .run import FlameParams, read_flame_params, read_gaussians

__all__ = ["FlameParams", "frame_camera", "gaussian_avatars_flame", "import_gaussian_avatars",
           "keyframes_from_flame_params",
           "motion_of_run", "posed_gaussians", "read_flame_params", "read_gaussians"]
