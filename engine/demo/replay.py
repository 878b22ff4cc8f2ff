"""Write a motion replay (``engine.render.replay``) as a video: one frame per keyframe at 25 fps."""

from __future__ import annotations

import os
from typing import Callable

import numpy as np

from ..motion import layout
from ..render.replay import replay_frames
from .video import BACKGROUND, VideoWriter


def replay_motion(avatar, keyframes: np.ndarray, output: str | os.PathLike, width: int = 512, height: int = 512, *,
                  backend: str | None = None, sh_degree: int | None = None, camera=None,
                  on_frame: Callable[[int, int], None] | None = None) -> int:
    """Write the replay of ``keyframes`` as a video (``.mp4``, 25 fps); returns the frame count.

    ``camera`` defaults to the avatar's; ``on_frame(done, total)`` reports progress.
    """
    writer = VideoWriter(output, width, height, layout.MOTION_FPS, 48000)
    done = 0
    try:
        for rgba in replay_frames(avatar, keyframes, width, height, backend=backend, sh_degree=sh_degree,
                                  camera=camera, background=tuple(BACKGROUND / 255.0)):
            rgba[..., 3] = 255  # the background is drawn in: the frame is opaque
            writer.add_frame(rgba)
            done += 1
            if on_frame is not None:
                on_frame(done, len(keyframes))
    finally:
        writer.close()
    return done
