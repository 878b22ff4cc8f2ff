"""Camera maths: a ``CameraConfig`` plus the view's ``avatar_transform`` → OpenCV ``viewmat`` and ``K``.

Conventions are gsplat's: ``viewmat`` maps world to camera with +x right, +y down, +z forward;
``K`` holds pixel intrinsics with pixel centres at +0.5. The avatar transform is a 2D placement in
the target (as in the seed: x, y in −1..1, +y up, scale > 0), applied through ``K`` so the 3D
pose and depth order are untouched.
"""

from __future__ import annotations

import math

import attrs
import numpy as np

from ..avatar.model import CameraConfig
from ..errors import AvatarError, ErrorCode


@attrs.frozen
class AvatarTransform:
    """Where the avatar sits in the view: ``x``/``y`` offsets in −1..1 (+y up), ``scale`` > 0."""

    x: float = 0.0
    y: float = 0.0
    scale: float = 1.0

    def __attrs_post_init__(self) -> None:
        for name in ("x", "y"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not -1 <= v <= 1:
                raise AvatarError(ErrorCode.playbackInitFailed,
                                  f"avatar_transform.{name} must be a number in -1..1 (0 = centre), not {v!r}")
        s = self.scale
        if isinstance(s, bool) or not isinstance(s, (int, float)) or not math.isfinite(s) or s <= 0:
            raise AvatarError(ErrorCode.playbackInitFailed,
                              f"avatar_transform.scale must be a finite number > 0 (1.0 = original size), not {s!r}")

    @classmethod
    def coerce(cls, value) -> "AvatarTransform":
        """Accept an ``AvatarTransform``, a dict with x/y/scale, or an (x, y, scale) tuple."""
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            unknown = set(value) - {"x", "y", "scale"}
            if unknown:
                raise AvatarError(ErrorCode.playbackInitFailed,
                                  f"avatar_transform has unknown keys {sorted(unknown)}; use x, y and scale")
            return cls(**value)
        if isinstance(value, (tuple, list)) and len(value) == 3:
            return cls(*value)
        raise AvatarError(ErrorCode.playbackInitFailed,
                          "avatar_transform must be an AvatarTransform, a dict {x, y, scale} or a tuple "
                          f"(x, y, scale), not {value!r}")


def validate_camera(camera: CameraConfig) -> CameraConfig:
    """Return ``camera`` if it describes a usable pinhole camera, else raise a clear ``AvatarError``."""
    if not isinstance(camera, CameraConfig):
        raise AvatarError(ErrorCode.playbackInitFailed,
                          f"camera must be an engine.CameraConfig, not {type(camera).__name__}")
    pos = np.asarray(camera.position, dtype=np.float64)
    tgt = np.asarray(camera.target, dtype=np.float64)
    up = np.asarray(camera.up, dtype=np.float64)
    if pos.shape != (3,) or tgt.shape != (3,) or up.shape != (3,) or not (
            np.isfinite(pos).all() and np.isfinite(tgt).all() and np.isfinite(up).all()):
        raise AvatarError(ErrorCode.playbackInitFailed,
                          "camera position, target and up must each be three finite numbers")
    if not (isinstance(camera.fov, (int, float)) and 1.0 <= camera.fov <= 170.0):
        raise AvatarError(ErrorCode.playbackInitFailed,
                          f"camera fov is the vertical field of view in degrees, 1..170, not {camera.fov!r}")
    if not (0 < camera.near < camera.far):
        raise AvatarError(ErrorCode.playbackInitFailed,
                          f"camera needs 0 < near < far, got near={camera.near!r} far={camera.far!r}")
    forward = tgt - pos
    if np.linalg.norm(forward) < 1e-9:
        raise AvatarError(ErrorCode.playbackInitFailed, "camera position and target coincide; move the camera")
    if np.linalg.norm(np.cross(forward, up)) < 1e-9 * np.linalg.norm(forward) * max(np.linalg.norm(up), 1e-30):
        raise AvatarError(ErrorCode.playbackInitFailed,
                          "camera up vector is zero or parallel to the viewing direction; choose another up")
    return camera


def look_at_viewmat(camera: CameraConfig) -> np.ndarray:
    """World→camera 4×4 (OpenCV axes) for a camera at ``position`` looking at ``target``."""
    validate_camera(camera)
    pos = np.asarray(camera.position, dtype=np.float64)
    forward = np.asarray(camera.target, dtype=np.float64) - pos
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, np.asarray(camera.up, dtype=np.float64))
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    rot = np.stack([right, down, forward])
    view = np.eye(4)
    view[:3, :3] = rot
    view[:3, 3] = -rot @ pos
    return view.astype(np.float32)


def intrinsics(camera: CameraConfig, width: int, height: int,
               transform: AvatarTransform | None = None) -> np.ndarray:
    """Pixel intrinsics for a ``width``×``height`` target: vertical ``fov``, square pixels.

    The avatar transform scales the focal length and moves the principal point by ``x·W/2``
    and ``−y·H/2`` pixels, so (x, y) = (1, 1) puts the camera target on the top-right corner.
    """
    t = transform or AvatarTransform()
    f = 0.5 * height / math.tan(math.radians(camera.fov) * 0.5) * t.scale
    K = np.array([[f, 0.0, 0.5 * width * (1.0 + t.x)],
                  [0.0, f, 0.5 * height * (1.0 - t.y)],
                  [0.0, 0.0, 1.0]], dtype=np.float32)
    return K
