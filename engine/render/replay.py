"""Motion replay: draw an avatar re-enacting a keyframe sequence (e.g. a tracked FLAME sequence) offscreen.

Each keyframe becomes one frame, so an imported avatar can be checked frame by frame against the video
it was trained on (``engine.demo.replay.replay_motion`` writes them as a video). No audio clock is
involved: the poses are given.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from ..errors import AvatarError, ErrorCode
from ..motion import layout
from .backends import make_renderer
from .camera import intrinsics, look_at_viewmat
from .choice import backend_for_view


def replay_frames(avatar, keyframes: np.ndarray, width: int = 512, height: int = 512, *, backend: str | None = None,
                  sh_degree: int | None = None, camera=None,
                  background=(0.0, 0.0, 0.0)) -> Iterator[np.ndarray]:
    """RGBA uint8 (H, W, 4) frames of ``avatar`` posed by each row of ``keyframes`` (T, 20 + E), as renderers
    give them: RGB = Σ c·α·T + T·background, A = 1 − T.

    ``camera`` defaults to the avatar's; ``sh_degree`` caps view-dependent colour (default: all it has).
    """
    from ..prepare import AvatarPreparer

    keyframes = np.asarray(keyframes, np.float32)
    dim = layout.motion_dim(avatar.expression_count)
    if keyframes.ndim != 2 or keyframes.shape[1] != dim or not len(keyframes):
        raise AvatarError(ErrorCode.animationPlayerNotInitialized,
                          f"keyframes must have shape (T, {dim}) for avatar {avatar.id!r} "
                          f"(20 + {avatar.expression_count} expressions), not {keyframes.shape}")
    if not np.isfinite(keyframes).all():
        raise AvatarError(ErrorCode.animationPlayerNotInitialized, "keyframes hold NaN or infinite values")
    camera = camera or avatar.camera
    viewmat, K = look_at_viewmat(camera), intrinsics(camera, width, height)
    preparer = AvatarPreparer(avatar.head, avatar.gaussians, sh_degree=sh_degree)
    renderer = make_renderer(backend or backend_for_view(False))
    renderer.open(width, height, window=None)
    try:
        for pose in keyframes:
            renderer.draw(preparer(pose, viewmat, K, width, height), background)
            yield np.array(renderer.read_rgba(), copy=True)
    finally:
        renderer.close()
