"""Facecast: a real-time talking-avatar engine.

The public API mirrors the AvatarKit client SDK in Python's idiom::

    from engine import AvatarSDK, AvatarManager, AvatarView, Configuration, Offscreen

    await AvatarSDK.initialize("my-app", Configuration())
    avatar = await AvatarManager.shared.load("demo")
    view = AvatarView(avatar, Offscreen(512, 512))

Heavy parts (numba kernels, renderers, audio) are imported on first use.
"""

from __future__ import annotations

import os

# Every numba parallel kernel (prepare stage, cpu rasterizer) shares the machine with the audio
# callback, the event loop and the renderer. GNU OpenMP's default spin-waiting stalls a parallel
# region for a whole scheduler slice whenever another core is busy (100k-splat prepare: 16 ms
# medians instead of 6 ms); passive waiting costs ~0.1 ms per region and never stalls. OpenMP
# reads this once, when numba first starts its thread pool, so it must be set before any engine
# kernel runs; a user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

from .config import REGIONS, SAMPLE_RATES, AudioFormat, Configuration, Endpoints, register_region
from .enums import (
    AnimationType,
    ConnectionState,
    ConversationState,
    DrivingServiceMode,
    FrameStarvationMode,
    LoadProgressInfo,
    LoadProgressType,
    LogLevel,
    RenderQuality,
)
from .errors import AvatarError, ErrorCode
from .hookspecs import hookimpl
from .lazy import lazy_getattr
from .sdk import AvatarSDK
from .version import __version__

_LAZY = {
    "AvatarManager": "engine.avatar.manager",
    "Avatar": "engine.avatar.avatar",
    "CameraConfig": "engine.avatar.model",
    "AvatarView": "engine.render.view",
    "Window": "engine.render.containers",
    "Offscreen": "engine.render.containers",
    "AvatarController": "engine.playback.controller",
    "FrameRateInfo": "engine.playback.events",
}

__all__ = [
    "AnimationType",
    "AudioFormat",
    "Avatar",
    "AvatarController",
    "AvatarError",
    "AvatarManager",
    "AvatarSDK",
    "AvatarView",
    "CameraConfig",
    "Configuration",
    "ConnectionState",
    "ConversationState",
    "DrivingServiceMode",
    "Endpoints",
    "ErrorCode",
    "FrameRateInfo",
    "FrameStarvationMode",
    "LoadProgressInfo",
    "LoadProgressType",
    "LogLevel",
    "Offscreen",
    "REGIONS",
    "RenderQuality",
    "SAMPLE_RATES",
    "Window",
    "__version__",
    "hookimpl",
    "register_region",
]


__getattr__ = lazy_getattr(__name__, _LAZY, globals())


def __dir__():
    return sorted(__all__)
