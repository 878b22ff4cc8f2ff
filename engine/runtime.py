"""The process-wide SDK state, on the floor below everything that reads it.

``AvatarSDK`` (``engine.sdk``, the top floor) writes it from ``initialize`` and its setters;
the avatar, render and playback floors read it through :func:`runtime` and never import the
SDK. What a lower floor must undo on ``AvatarSDK.cleanup()`` it registers with
:func:`add_cleanup` instead of being imported by the SDK.
"""

from __future__ import annotations

import logging
import weakref
from typing import Any, Callable

from .config import Configuration
from .errors import AvatarError, ErrorCode

log = logging.getLogger("facecast.sdk")

DEFAULT_MAX_HEIGHT = 1080


class Runtime:
    """What ``AvatarSDK`` was told; one per process (see :func:`runtime`)."""

    def __init__(self) -> None:
        self.views: weakref.WeakSet[Any] = weakref.WeakSet()  # live AvatarViews, told of reconfiguration
        self._cleanups: list[Callable[[], None]] = []
        self.reset()

    def reset(self) -> None:
        self.app_id: str | None = None
        self.configuration: Configuration | None = None
        self.session_token: str | None = None
        self.pending_token: str | None = None  # set before initialize; applied by it
        self.user_id: str | None = None
        self.render_resolution_cap_enabled = False
        self.render_resolution_max_height = DEFAULT_MAX_HEIGHT
        self.device_score: Any = None  # the last engine.render.device_score.DeviceScore measured

    def require_configuration(self, what: str) -> Configuration:
        """The configuration, or ``AvatarError`` telling the caller to initialise first."""
        if self.configuration is None:
            raise AvatarError(ErrorCode.appIDUnrecognized, f"{what} needs the SDK: call "
                              "`await AvatarSDK.initialize(app_id, Configuration(...))` first")
        return self.configuration

    def run_cleanups(self) -> None:
        for cleanup in list(self._cleanups):
            try:
                cleanup()
            except Exception:  # one broken cleanup must not keep the rest from running
                log.exception("an SDK cleanup (%s) failed", getattr(cleanup, "__qualname__", cleanup))


_RUNTIME = Runtime()


def runtime() -> Runtime:
    """The process's SDK state (read-only for everything but ``AvatarSDK``)."""
    return _RUNTIME


def add_cleanup(cleanup: Callable[[], None]) -> None:
    """Run ``cleanup()`` on every ``AvatarSDK.cleanup()`` (before the state is reset)."""
    _RUNTIME._cleanups.append(cleanup)
