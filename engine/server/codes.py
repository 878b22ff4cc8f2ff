"""Re-export of the protocol's codes, which live in :mod:`engine.wire.codes` (shared with clients)."""

from __future__ import annotations

from ..wire.codes import CloseCode, ServerErrorCode

__all__ = ["CloseCode", "ServerErrorCode"]
