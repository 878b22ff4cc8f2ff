"""``SERVER_ERROR`` codes of the WebRTC egress (this project's; docs/protocol.md, "RTC egress extensions")."""

from __future__ import annotations

import enum


class RtcErrorCode(enum.IntEnum):
    JOIN_TIMEOUT = 4110  # no peer joined (or re-joined) within the join timeout
    UNAVAILABLE = 4111  # this server cannot run a WebRTC egress (aiortc missing)
    CONFIG_INVALID = 4112  # a WebRtcEgressConfig value over the server's limit
    PEER_BACKLOG = 4113  # the egress queued more than it may before any peer was ready
    RENDER_CAPACITY = 4114  # the server renders as many video sessions as it can (EGRESS_TYPE_WEBRTC_VIDEO)
