"""What an ingress session needs to hand its output to a WebRTC egress: open it, and the confirm that names it."""

from __future__ import annotations

from ...wire import message_pb2 as pb
from .service import ConfigRefused, EgressUnavailable


def open_egress(rtc, session, cfg: pb.ClientConfigureSession, on_failure):
    """``(egress, confirm bytes)`` for a session configured with ``EGRESS_TYPE_WEBRTC``.

    Raises ``ConfigRefused`` / ``EgressUnavailable`` (each with ``code`` and ``message``). When the
    egress fails later (no peer joined in time), ``await on_failure(code, message)`` tells the session.
    """
    opened = rtc.open(connection_id=session.connection_id, app_id=session.app_id, sample_rate=cfg.sample_rate,
                      config=cfg.webrtc_egress, on_failure=on_failure)
    return opened.egress, joinable_confirm(session.connection_id, opened)


def joinable_confirm(connection_id: str, opened) -> bytes:
    """``SERVER_CONFIRM_SESSION`` naming where and with what token peers join the egress ``opened``."""
    msg = pb.Message(type=pb.MESSAGE_TYPE_SERVER_CONFIRM_SESSION)
    confirm = msg.server_confirm_session
    confirm.connection_id = connection_id
    confirm.join_url = opened.join_url
    confirm.join_token = opened.join_token
    confirm.join_token_expires_at = opened.expires_at
    return msg.SerializeToString()


__all__ = ["ConfigRefused", "EgressUnavailable", "joinable_confirm", "open_egress"]
