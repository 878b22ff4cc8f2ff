"""Render-backend lookup: names → registered factories, with errors that list what exists."""

from __future__ import annotations

from typing import Any

from ..errors import AvatarError, ErrorCode
from ..plugins import get_plugin_manager


def backend_names() -> list[str]:
    """Every registered renderer name (available here or not)."""
    return get_plugin_manager().names("renderers")


def make_renderer(name: str) -> Any:
    """A fresh renderer from the backend registered as ``name``."""
    if not isinstance(name, str):
        raise AvatarError(ErrorCode.playbackInitFailed, f"backend must be a renderer name, not {name!r}")
    try:
        registration = get_plugin_manager().get("renderers", name)
    except KeyError as exc:
        raise AvatarError(ErrorCode.playbackInitFailed,
                          f"{exc.args[0]}; `facecast plugins` lists the installed renderers") from None
    return registration.factory()


def probe_backend(name: str) -> Any:
    """Run the backend's ``probe()`` in this process (``device_score`` runs it in a subprocess)."""
    registration = get_plugin_manager().get("renderers", name)
    return registration.probe()
