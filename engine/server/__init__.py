"""The embedded Motion Server: console API, ingress WebSocket, avatar assets, apps and keys (protocol.md)."""

from __future__ import annotations

from .app import MotionServer
from .codes import CloseCode, ServerErrorCode
from .limits import Limits
from .store import Store, default_data_dir

__all__ = ["CloseCode", "Limits", "MotionServer", "ServerErrorCode", "Store", "default_data_dir"]
