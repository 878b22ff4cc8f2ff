"""The browser page ``facecast serve`` offers: a server-rendered avatar session watched over WebRTC."""

from .page import PageAccess, add_routes

__all__ = ["PageAccess", "add_routes"]
