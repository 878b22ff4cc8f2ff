"""The WebRTC egresses' ``SERVER_ERROR`` codes; they live with the protocol's other codes in ``engine.wire.codes``."""

from __future__ import annotations

from ..wire.codes import RtcErrorCode

__all__ = ["RtcErrorCode"]
