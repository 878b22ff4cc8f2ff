"""The Motion Server protocol's numbers: ``SERVER_ERROR`` codes and WebSocket close codes.

They live here, once, because both ends speak them: the embedded server sends them and every
client transport maps them onto the SDK's ``ErrorCode``. Codes 3, 14, 16, 4001 and 4002 are
fixed by the published protocol (gRPC-style status numbers and the service's own); 41xx are this
project's; close code 4010 (token expired mid-session) is the protocol's. docs/protocol.md lists
what each means to a client.
"""

from __future__ import annotations

import enum


class ServerErrorCode(enum.IntEnum):
    """``ServerError.code`` values."""

    INVALID_ARGUMENT = 3  # malformed or out-of-order message
    UNAVAILABLE = 14  # server shutting down, or motion generation failed
    UNAUTHENTICATED = 16  # missing, malformed or forged session token
    INSUFFICIENT_BALANCE = 4001  # the app's quota (facecast apps set-quota) is used up: refused, or ended mid-session
    SESSION_DURATION_EXCEEDED = 4002  # the session ran longer than Limits.max_session_s
    AVATAR_UNKNOWN = 4101  # no such avatar, or the app has no grant for it
    SAMPLE_RATE_UNSUPPORTED = 4102  # configure named a rate outside config.SAMPLE_RATES
    CONCURRENT_LIMIT = 4103  # the app already has Limits.max_sessions_per_app sessions
    APP_UNKNOWN = 4104  # unknown App ID, or a token issued to another app
    TOKEN_EXPIRED = 4105  # the session token's expiry has passed
    MESSAGE_TOO_LARGE = 4106  # one WebSocket message over Limits.max_message_bytes
    ROUND_AUDIO_LIMIT = 4107  # one round carried more than Limits.max_round_audio_s of audio
    IDLE_TIMEOUT = 4108  # no message for Limits.idle_timeout_s
    AUDIO_FORMAT_UNSUPPORTED = 4109  # an audio format other than PCM_S16LE / OGG_OPUS, or an unknown egress


class RtcErrorCode(enum.IntEnum):
    """``ServerError.code`` values of the WebRTC egresses (docs/protocol.md, "RTC egress extensions")."""

    JOIN_TIMEOUT = 4110  # no peer joined (or re-joined) within the join timeout
    UNAVAILABLE = 4111  # this server cannot run a WebRTC egress (aiortc missing)
    CONFIG_INVALID = 4112  # a WebRtcEgressConfig (or video extra_params) value over the server's limit
    PEER_BACKLOG = 4113  # the egress queued more than it may before any peer was ready
    RENDER_CAPACITY = 4114  # the server renders as many video sessions as it can (EGRESS_TYPE_WEBRTC_VIDEO)


class CloseCode(enum.IntEnum):
    """WebSocket close codes the server uses (RFC 6455 numbers plus the protocol's 4010)."""

    NORMAL = 1000
    GOING_AWAY = 1001  # server shutting down
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    ABNORMAL = 1006  # never sent: no close frame arrived (the connection dropped)
    INVALID_PAYLOAD = 1007
    POLICY_VIOLATION = 1008  # authentication or limit failure; a SERVER_ERROR precedes it
    MESSAGE_TOO_BIG = 1009
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    BAD_GATEWAY = 1014
    TOKEN_EXPIRED = 4010  # fixed by the protocol: the token expired during the session
