"""Server-wide settings of the WebRTC egress; a session's ``WebRtcEgressConfig`` may lower them, never raise them."""

from __future__ import annotations

import attrs

from ...rtc.ice import IcePolicy
from ...wire import message_pb2 as pb
from ...rtc.codes import RtcErrorCode


class ConfigRefused(Exception):
    def __init__(self, message: str) -> None:
        self.code = RtcErrorCode.CONFIG_INVALID
        self.message = message
        super().__init__(message)


def _positive(instance, attribute, value) -> None:
    if not value > 0:
        raise ValueError(f"RtcSettings.{attribute.name} must be positive, not {value!r}")


@attrs.frozen
class RtcSettings:
    max_joins: int = attrs.field(default=8, validator=_positive)  # joins over a session's lifetime
    max_peers: int = attrs.field(default=2, validator=_positive)  # peers joined at once
    join_timeout_s: float = attrs.field(default=30.0, validator=_positive)  # with no peer joined, the session ends
    join_token_ttl_s: float = attrs.field(default=120.0, validator=_positive)
    connect_timeout_s: float = attrs.field(default=15.0, validator=_positive)  # answer → ICE + DTLS connected
    max_buffered_bytes: int = attrs.field(default=1 << 20, validator=_positive)  # per peer data channel
    max_pending: int = attrs.field(default=20_000, validator=_positive)  # calls held before the first peer listens
    ice: IcePolicy = IcePolicy()

    def for_session(self, cfg: pb.WebRtcEgressConfig) -> "RtcSettings":
        """These settings with the session's requests applied; :class:`ConfigRefused` for one over a limit."""
        changes = {}
        for name, field, value, cap in (
                ("max_joins", "max_joins", cfg.max_joins, self.max_joins),
                ("max_peers", "max_peers", cfg.max_peers, self.max_peers),
                ("join_timeout_s", "join_timeout_ms", cfg.join_timeout_ms / 1000, self.join_timeout_s),
                ("join_token_ttl_s", "join_token_ttl_s", cfg.join_token_ttl_s, self.join_token_ttl_s)):
            if value:
                if value > cap:
                    raise ConfigRefused(f"webrtc_egress.{field} of {getattr(cfg, field)} is over this server's "
                                        f"limit of {cap:g}{' s' if name.endswith('_s') else ''}")
                changes[name] = value
        return attrs.evolve(self, **changes)
