"""The Motion Server's WebRTC egress: join tokens, WHEP-style signalling, and the egress that paces a
session's Opus audio and sends its motion on an ordered, reliable data channel (docs/protocol.md)."""

from __future__ import annotations

from ...rtc.codes import RtcErrorCode
from .service import ConfigRefused, EgressUnavailable, RtcService
from .settings import RtcSettings

__all__ = ["ConfigRefused", "EgressUnavailable", "RtcErrorCode", "RtcService", "RtcSettings"]
