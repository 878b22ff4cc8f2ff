"""``AvatarController``: plays speech audio and the motion that goes with it, locked to the audio clock."""

from __future__ import annotations

import threading
import time

import numpy as np

from ..errors import AvatarError, ErrorCode
from ..motion.layout import motion_dim
from .blend import sample_loop


class AvatarController:
    """Runtime playback control of one avatar (the seed's ``AvatarController``).

    ``AvatarView`` makes one per view and asks :meth:`frame_pose` for the pose to draw on each
    render tick. With nothing playing, the avatar's idle loop plays in real time.
    """

    def __init__(self, avatar, view=None) -> None:
        self.avatar = avatar
        self.view = view
        self._dim = motion_dim(avatar.expression_count)
        idle = np.ascontiguousarray(avatar.idle, dtype=np.float32)
        if idle.ndim != 2 or idle.shape[1] != self._dim:
            raise AvatarError(ErrorCode.animationPlayerNotInitialized,
                              f"avatar {avatar.id!r} has an idle loop of shape {idle.shape}, expected (K, {self._dim})")
        self._idle = idle
        self._lock = threading.Lock()
        self._t0 = time.monotonic()
        self._disposed = False

    def frame_pose(self, out: np.ndarray) -> None:
        """Fill ``out`` (float32[D]) with the pose to draw now."""
        if out.shape != (self._dim,):
            raise AvatarError(ErrorCode.animationPlayerNotInitialized,
                              f"frame_pose needs a float32 array of shape ({self._dim},), got {out.shape}")
        with self._lock:
            sample_loop(self._idle, time.monotonic() - self._t0, out)

    def dispose(self) -> None:
        """Release everything the controller holds; idempotent."""
        self._disposed = True
