"""Canonical splat scenes for renderer conformance: each is a dict of ``render_splats`` arguments."""

from __future__ import annotations

import math

import numpy as np


def _camera(width: int, height: int, fov_deg: float = 40.0) -> tuple[np.ndarray, np.ndarray]:
    f = 0.5 * height / math.tan(math.radians(fov_deg) / 2)
    K = np.array([[f, 0, width / 2], [0, f, height / 2], [0, 0, 1]], np.float32)
    return np.eye(4, dtype=np.float32), K


def _scene(means, quats, scales, opacities, colors, width, height, background=(0.0, 0.0, 0.0)) -> dict:
    viewmat, K = _camera(width, height)
    return dict(means=np.asarray(means, np.float32), quats=np.asarray(quats, np.float32),
                scales=np.asarray(scales, np.float32), opacities=np.asarray(opacities, np.float32),
                colors=np.asarray(colors, np.float32), viewmat=viewmat, K=K, width=width, height=height,
                background=background)


def random_splats(seed: int, n: int = 300, width: int = 96, height: int = 72) -> dict:
    """Random sizes, orientations, opacities and colours, some overlapping, over a grey background."""
    rng = np.random.default_rng(seed)
    z = rng.uniform(1.5, 4.0, n)
    means = np.stack([rng.uniform(-0.8, 0.8, n) * z * 0.45, rng.uniform(-0.6, 0.6, n) * z * 0.45, z], 1)
    scales = np.exp(rng.uniform(math.log(0.005), math.log(0.12), (n, 3)))
    return _scene(means, rng.normal(size=(n, 4)), scales, rng.uniform(0.02, 1.0, n), rng.uniform(0, 1, (n, 3)),
                  width, height, background=(0.2, 0.25, 0.3))


def anisotropic_splat(width: int = 80, height: int = 64) -> dict:
    """One long thin splat rotated 30° about the view axis, off-centre: an axis flip or a swapped
    conic term draws it mirrored or rotated the other way."""
    angle = math.radians(30.0)
    q = [math.cos(angle / 2), 0.0, 0.0, math.sin(angle / 2)]  # (w, x, y, z) about +z
    return _scene([[0.15, -0.08, 2.0]], [q], [[0.35, 0.025, 0.025]], [0.95], [[1.0, 0.6, 0.1]], width, height)


def depth_ordering(width: int = 64, height: int = 64) -> dict:
    """Opaque red in front of opaque blue, listed back to front so only a depth sort gets it right."""
    return _scene([[0.0, 0.0, 3.0], [0.05, 0.0, 2.0]], [[1, 0, 0, 0]] * 2, [[0.3, 0.3, 0.3]] * 2, [1.0, 1.0],
                  [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]], width, height)


def empty(width: int = 40, height: int = 30) -> dict:
    return _scene(np.zeros((0, 3)), np.zeros((0, 4)), np.zeros((0, 3)), np.zeros(0), np.zeros((0, 3)),
                  width, height, background=(0.1, 0.5, 0.9))


def behind_camera(width: int = 40, height: int = 30) -> dict:
    """Splats only behind the camera (z < 0) or at it: nothing may be drawn."""
    rng = np.random.default_rng(7)
    n = 50
    means = np.stack([rng.uniform(-1, 1, n), rng.uniform(-1, 1, n), rng.uniform(-3, 0.0, n)], 1)
    return _scene(means, rng.normal(size=(n, 4)), np.full((n, 3), 0.2), np.ones(n), rng.uniform(0, 1, (n, 3)),
                  width, height, background=(0.3, 0.3, 0.3))


SCENES = {
    "random-1": lambda: random_splats(1),
    "random-2": lambda: random_splats(2, n=800, width=128, height=96),
    "anisotropic": anisotropic_splat,
    "depth-order": depth_ordering,
    "empty": empty,
    "behind-camera": behind_camera,
}


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB over RGB of two float images in [0, 1]; inf when identical."""
    mse = float(np.mean((a[..., :3].astype(np.float64) - b[..., :3]) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(1.0 / mse)


def mean_abs_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(np.abs(a.astype(np.float64) - b)))


def prepared_frame(width: int, height: int, splats: list[dict], conic=(0.02, 0.0, 0.02)):
    """A ``PreparedFrame`` made by hand, splats listed front to back: each a dict of ``mean`` (x, y
    in pixels), ``radius``, ``opacity``, ``color`` and optionally ``conic`` (a, b, c)."""
    from engine.kit import PreparedFrame

    n = len(splats)
    return PreparedFrame(
        width=width, height=height, count=n, order=np.arange(n, dtype=np.int32),
        means2d=np.array([s["mean"] for s in splats], np.float32).reshape(n, 2),
        conics=np.array([s.get("conic", conic) for s in splats], np.float32).reshape(n, 3),
        radii=np.array([s["radius"] for s in splats], np.float32),
        depths=np.arange(1, n + 1, dtype=np.float32),
        opacities=np.array([s["opacity"] for s in splats], np.float32),
        colors=np.array([s["color"] for s in splats], np.float32).reshape(n, 3))


def projected_random_frame(width: int, height: int, n: int = 2000):
    """Random splats through the shared prepare stage, as a renderer gets them from a view."""
    from engine.kit import SplatProjector

    scene = random_splats(3, n=n, width=width, height=height)
    scene.pop("background")
    return SplatProjector(n)(**scene)


def sh_avatar_frames(width: int = 96, height: int = 96, splats: int = 4000) -> list:
    """The demo head with seeded degree-3 SH colour, prepared from two viewpoints (copies of the frames).

    The prepare stage evaluates SH per view into ``frame.colors``, so a renderer must read the colours of
    every frame it draws, not keep the first frame's.
    """
    import attrs

    from engine.avatar import load_bundled
    from engine.prepare import AvatarPreparer
    from engine.render.camera import intrinsics, look_at_viewmat

    avatar = load_bundled("demo")
    g = avatar.gaussians
    sh = np.random.default_rng(15).normal(0.0, 0.35, (g.count, 16, 3))
    sh[:, 0] = (g.color - 0.5) / 0.28209479177387814  # degree 0 keeps the demo's own colours
    preparer = AvatarPreparer(avatar.head, attrs.evolve(g, sh=sh.astype(np.float32)), max_splats=splats)
    frames = []
    for dx in (-0.3, 0.3):
        x, y, z = avatar.camera.position
        camera = attrs.evolve(avatar.camera, position=(x + dx, y, z))
        f = preparer(avatar.idle[0], look_at_viewmat(camera), intrinsics(camera, width, height), width, height)
        frames.append(attrs.evolve(f, **{k: getattr(f, k).copy() for k in
                                         ("order", "means2d", "conics", "radii", "depths", "opacities", "colors")}))
    return frames
