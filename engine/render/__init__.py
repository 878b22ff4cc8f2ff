"""Rendering: camera maths, containers, backend choice, device score, ``render_splats`` and ``AvatarView``.

Heavy parts (numba kernels, GPU libraries) load on first use.
"""

from __future__ import annotations

from ..lazy import lazy_getattr

_LAZY = {
    "render_splats": "engine.render.splats",
    "AvatarView": "engine.render.view",
    "Rect": "engine.render.view",
    "Window": "engine.render.containers",
    "Offscreen": "engine.render.containers",
    "AvatarTransform": "engine.render.camera",
    "RenderSize": "engine.render.quality",
    "QualityTier": "engine.render.quality",
    "TIERS": "engine.render.quality",
    "DeviceScore": "engine.render.device_score",
    "measure_device_score": "engine.render.device_score",
    "encode_png": "engine.render.png",
}

__all__ = sorted(_LAZY)


__getattr__ = lazy_getattr(__name__, _LAZY, globals())
