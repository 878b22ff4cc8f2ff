"""Numeric ``SERVER_ERROR`` codes and WebSocket close codes of the embedded Motion Server.

Codes 3, 14, 16, 4001 and 4002 are fixed by the protocol (gRPC-style status numbers and the
published server's own); 41xx are this project's (4101-4103 as in ``engine.wire.messages``), documented here so that clients
(``plugins.transport_direct``) can map each one onto the SDK's ``ErrorCode``.
"""

from __future__ import annotations

import enum


class ServerErrorCode(enum.IntEnum):
    INVALID_ARGUMENT = 3  # malformed or out-of-order message
    UNAVAILABLE = 14  # server shutting down, or motion generation failed
    UNAUTHENTICATED = 16  # missing, malformed or forged session token
    INSUFFICIENT_BALANCE = 4001  # reserved by the protocol; the embedded server bills nothing
    SESSION_DURATION_EXCEEDED = 4002  # the session ran longer than Limits.max_session_s
    AVATAR_UNKNOWN = 4101  # no such avatar, or the app has no grant for it
    SAMPLE_RATE_UNSUPPORTED = 4102  # configure named a rate outside config.SAMPLE_RATES
    CONCURRENT_LIMIT = 4103  # the app already has Limits.max_sessions_per_app sessions
    APP_UNKNOWN = 4104  # unknown App ID, or a token issued to another app
    TOKEN_EXPIRED = 4105  # the session token's expiry has passed
    MESSAGE_TOO_LARGE = 4106  # one WebSocket message over Limits.max_message_bytes
    ROUND_AUDIO_LIMIT = 4107  # one round carried more than Limits.max_round_audio_s of audio
    IDLE_TIMEOUT = 4108  # no message for Limits.idle_timeout_s
    AUDIO_FORMAT_UNSUPPORTED = 4109  # an audio format other than PCM_S16LE / OGG_OPUS, or egress other than this WebSocket


class CloseCode(enum.IntEnum):
    NORMAL = 1000
    GOING_AWAY = 1001  # server shutting down
    POLICY_VIOLATION = 1008  # authentication or limit failure; a SERVER_ERROR precedes it
    MESSAGE_TOO_BIG = 1009
    INTERNAL_ERROR = 1011
    TOKEN_EXPIRED = 4010  # fixed by the protocol: the token expired during the session
