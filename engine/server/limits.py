"""Per-session and per-app limits of the embedded Motion Server; each breach has its own error code."""

from __future__ import annotations

import attrs


@attrs.frozen
class Limits:
    """Defaults suit a local deployment; tests shrink them to exercise each refusal."""

    max_message_bytes: int = 256 * 1024  # one WebSocket message (≈ 2.7 s of 48 kHz PCM16)
    max_round_audio_s: float = 300.0  # audio in one round (req_id)
    max_session_s: float = 3600.0  # wall-clock length of one session
    idle_timeout_s: float = 300.0  # no protocol message for this long closes the session (pings do not count)
    configure_timeout_s: float = 10.0  # the configure message must arrive this soon after the upgrade
    send_timeout_s: float = 10.0  # a peer that takes no bytes of a message for this long is disconnected
    max_sessions_per_app: int = 64  # concurrent ingress sessions of one App ID
    request_timeout_s: float = 15.0  # an HTTP request's headers (and body) must arrive within this
    max_connections: int = 4096  # open HTTP connections (lowered to fit the file-descriptor limit)

    def __attrs_post_init__(self) -> None:
        for field in attrs.fields(type(self)):
            if getattr(self, field.name) <= 0:
                raise ValueError(f"Limits.{field.name} must be positive, not {getattr(self, field.name)!r}")
