"""The avatar's idle loop: a short keyframe track that plays on repeat when no round is playing."""

from __future__ import annotations

import math

import numpy as np

from ..errors import AvatarError, ErrorCode
from .interpolate import blend_pose
from .layout import MOTION_FPS


class IdleLoop:
    """Samples ``keyframes`` (float32 (K, D), at ``fps``) at any time, wrapping from the last frame to the first."""

    def __init__(self, keyframes: np.ndarray, fps: int = MOTION_FPS) -> None:
        kf = np.ascontiguousarray(keyframes, dtype=np.float32)
        if kf.ndim != 2 or kf.shape[0] == 0 or kf.shape[1] < 20:
            raise AvatarError(ErrorCode.animationPlayerNotInitialized,
                              f"the idle loop must be a non-empty (K, 20 + E) keyframe array, not shape {kf.shape}")
        if not np.isfinite(kf).all():
            raise AvatarError(ErrorCode.animationPlayerNotInitialized, "the idle loop contains NaN or infinite values")
        if fps <= 0:
            raise AvatarError(ErrorCode.animationPlayerNotInitialized, f"idle fps must be positive, not {fps}")
        self.keyframes = kf
        self.fps = fps

    @property
    def dim(self) -> int:
        return int(self.keyframes.shape[1])

    @property
    def duration(self) -> float:
        """Seconds of one loop."""
        return self.keyframes.shape[0] / self.fps

    def sample(self, t: float, out: np.ndarray) -> np.ndarray:
        """Fill ``out`` with the idle pose ``t`` seconds into the loop (any t, negative included)."""
        count = self.keyframes.shape[0]
        x = (t * self.fps) % count if math.isfinite(t) else 0.0  # a broken clock shows frame 0, never raises
        i = int(math.floor(x))
        i = min(i, count - 1)  # x can round up to exactly `count`
        blend_pose(self.keyframes[i], self.keyframes[(i + 1) % count], x - i, out)
        return out
