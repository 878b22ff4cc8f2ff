"""Built-in transport ``rtc``: the client side of the RTC path (a session's WebRTC egress), in backend mode.

``RtcClient(controller, join_url, join_token)`` joins the egress the app's backend started
(``engine.server_sdk`` with ``egress="webrtc"``) and plays its audio and motion; the ``rtc``
transport is the backend-mode feed those calls pass through.
"""

from __future__ import annotations

import engine.kit as kit

from .client import RtcClient
from .feed import RtcTransport


@kit.hookimpl
def register_transports(register):
    register("rtc", RtcTransport)


__all__ = ["RtcClient", "RtcTransport", "register_transports"]
