"""Avatars: the package format, the FLAME-compatible head model, the demo avatar, and AvatarManager.

``load_bundled("demo")`` and ``load_package(path)`` load a package synchronously (no SDK needed);
``engine.AvatarManager.shared.load(id)`` is the SDK's asynchronous, cached loader.
"""

from .avatar import Avatar
from .model import CameraConfig, GaussianSet, HeadModel
from .package import bundled_ids, load_bundled, load_package, write_package

__all__ = ["Avatar", "CameraConfig", "GaussianSet", "HeadModel", "bundled_ids", "load_bundled", "load_package",
           "write_package"]
