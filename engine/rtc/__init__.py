"""What both ends of the WebRTC path share: the ICE policy (loopback-only by default) and the data channel framing."""

from __future__ import annotations

from .ice import LOOPBACK, IcePolicy

__all__ = ["LOOPBACK", "IcePolicy"]
