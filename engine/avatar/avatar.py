"""The loaded :class:`Avatar`: what ``AvatarManager.load`` returns and ``AvatarView`` draws."""

from __future__ import annotations

import attrs
import numpy as np

from .model import CameraConfig, GaussianSet, HeadModel


@attrs.frozen(eq=False)
class Avatar:
    """An immutable, fully validated avatar.

    ``idle`` is the breathing loop, ``float32 (K, 20 + E)`` keyframes at ``motion_fps``
    in the engine motion layout (``engine.motion.layout``).
    """

    id: str
    name: str
    head: HeadModel
    gaussians: GaussianSet
    idle: np.ndarray
    camera: CameraConfig
    motion_fps: int = 25
    content_hash: str = ""
    compressed: bool = False

    @property
    def expression_count(self) -> int:
        return self.head.expression_count
