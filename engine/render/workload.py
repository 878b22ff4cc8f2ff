"""The device-score and benchmark workload: the demo avatar at 512², or 30k synthetic splats."""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from .camera import intrinsics, look_at_viewmat

SIZE = 512


def synthetic_splats(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """``n`` random splats on a head-sized ellipsoid shell 0.6 m in front of the default camera.

    Splat size shrinks with ``n`` as in a trained avatar: together they cover the ~0.1 m² shell
    about twice, so 10k splats are a few pixels wide at 512² and 100k about one.
    """
    rng = np.random.default_rng(seed)
    d = rng.normal(size=(n, 3))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    means = (d * (0.09 * rng.uniform(0.9, 1.0, (n, 1))) * np.array([0.85, 1.1, 1.0])).astype(np.float32)
    quats = rng.normal(size=(n, 4)).astype(np.float32)
    spacing = math.sqrt(0.1 / n)  # metres between neighbouring splat centres on the shell
    scales = (spacing * rng.uniform(0.3, 0.8, (n, 3))).astype(np.float32)
    opacities = rng.uniform(0.3, 1.0, n).astype(np.float32)
    colors = rng.uniform(0.2, 0.9, (n, 3)).astype(np.float32)
    return dict(means=means, quats=quats, scales=scales, opacities=opacities, colors=colors)


def default_view(width: int, height: int, camera=None) -> tuple[np.ndarray, np.ndarray]:
    from ..avatar.model import CameraConfig

    camera = camera or CameraConfig()
    return look_at_viewmat(camera), intrinsics(camera, width, height)


def demo_avatar():
    """The bundled demo avatar."""
    from ..avatar.package import load_bundled

    return load_bundled("demo")


def make_frame_source(kind: str = "demo", size: int = SIZE, n: int = 30_000) -> tuple[Callable[[], Any], str]:
    """A callable producing one prepared frame per call (pose → deform → bind → project → sort),
    and a description. ``kind``: ``demo`` or ``synthetic``."""
    avatar = demo_avatar() if kind == "demo" else None
    if avatar is not None:
        from ..prepare import AvatarPreparer

        preparer = AvatarPreparer(avatar.head, avatar.gaussians)
        viewmat, K = default_view(size, size, avatar.camera)
        pose = np.array(avatar.idle[0], dtype=np.float32)
        return (lambda: preparer(pose, viewmat, K, size, size)), \
            f"demo avatar ({avatar.gaussians.count} Gaussians) at {size}×{size}"
    from ..prepare import SplatProjector

    scene = synthetic_splats(n)
    projector = SplatProjector(n)
    viewmat, K = default_view(size, size)
    return (lambda: projector(**scene, viewmat=viewmat, K=K, width=size, height=size)), \
        f"{n} synthetic splats at {size}×{size}"
