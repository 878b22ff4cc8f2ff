"""Blending from the pose on screen into a new pose source (idle → speaking, speaking → idle).

A transition captures the pose currently displayed when it starts, then for ``duration_s``
blends from that frozen pose to whatever the new source produces at each tick (the target keeps
moving), with a smoothstep weight so the pose has no velocity jump at either end. Starting a
transition mid-transition is safe: the caller passes the pose on screen, which already is a blend.

The mouth (jaw and expression coefficients) takes at most ``MOUTH_BLEND_S`` whatever the duration:
a round that ends mid-word must not leave the mouth hanging open through a 1.6 s settle, and
speech that starts must not lag its first syllable. Head, neck, eyes and eyelids take the full
duration.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import AvatarError, ErrorCode
from .interpolate import blend_pose
from .layout import EXPRESSION_OFFSET, JAW, MOTION_FPS

IDLE_TO_SPEAKING_S = 5 / MOTION_FPS  # 5 frames: speech must start promptly
SPEAKING_TO_IDLE_S = 40 / MOTION_FPS  # 40 frames: settle gently after a round
MOUTH_BLEND_S = 0.1  # lips meet within 120 ms of speech stopping, with a frame to spare


class TransitionBlender:
    """One blend at a time from a captured pose to a live target; times are seconds on any one clock."""

    def __init__(self, dim: int) -> None:
        self._from = np.zeros(dim, dtype=np.float32)
        self._mouth = np.zeros(dim, dtype=np.float32)
        self._t0 = 0.0
        self._duration = 0.0
        self._active = False

    @property
    def active(self) -> bool:
        return self._active

    def start(self, from_pose: np.ndarray, duration_s: float, t: float = 0.0) -> None:
        """Begin blending from ``from_pose`` (copied) at time ``t``; ``duration_s`` 0 switches at once."""
        if from_pose.shape != self._from.shape:
            raise AvatarError(ErrorCode.animationPlayerNotInitialized,
                              f"from_pose must have shape {self._from.shape}, not {from_pose.shape}")
        if not duration_s >= 0.0:
            raise AvatarError(ErrorCode.animationPlayerNotInitialized,
                              f"transition duration must be >= 0 s, not {duration_s!r}")
        self._from[:] = from_pose
        self._t0, self._duration = float(t), float(duration_s)
        self._active = duration_s > 0.0

    def cancel(self) -> None:
        self._active = False

    def weight(self, t: float, duration_s: float | None = None) -> float:
        """Smoothstep progress in [0, 1] at time ``t`` (1 when no transition is running) of a blend
        lasting ``duration_s`` (default: the transition's)."""
        duration = self._duration if duration_s is None else min(duration_s, self._duration)
        x = (t - self._t0) / duration if self._active and duration > 0.0 else 1.0
        if not math.isfinite(x):
            return 1.0  # a broken clock ends the blend rather than producing NaN poses
        x = min(max(x, 0.0), 1.0)
        return x * x * (3.0 - 2.0 * x)

    def apply(self, target_pose: np.ndarray, t: float, out: np.ndarray) -> bool:
        """Fill ``out`` with the blended pose at ``t``; return True while the transition is still running."""
        w = self.weight(t)
        if w >= 1.0:
            self._active = False
            if out is not target_pose:
                out[:] = target_pose
            return False
        blend_pose(self._from, target_pose, self.weight(t, MOUTH_BLEND_S), self._mouth)
        blend_pose(self._from, target_pose, w, out)
        out[JAW] = self._mouth[JAW]
        out[EXPRESSION_OFFSET:] = self._mouth[EXPRESSION_OFFSET:]
        return True
