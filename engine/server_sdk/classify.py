"""Motion Server ``SERVER_ERROR`` codes and console API error codes → :class:`AvatarSDKErrorCode`."""

from __future__ import annotations

from ..rtc.codes import RtcErrorCode
from ..wire.codes import ServerErrorCode as S
from .errors import AvatarSDKErrorCode as C

SERVER = {
    S.INVALID_ARGUMENT: C.invalidRequest,
    S.UNAVAILABLE: C.serverError,
    S.UNAUTHENTICATED: C.sessionTokenInvalid,
    S.INSUFFICIENT_BALANCE: C.creditsExhausted,
    S.SESSION_DURATION_EXCEEDED: C.sessionDurationExceeded,
    S.AVATAR_UNKNOWN: C.avatarNotFound,
    S.SAMPLE_RATE_UNSUPPORTED: C.unsupportedSampleRate,
    S.CONCURRENT_LIMIT: C.concurrentLimitExceeded,
    S.APP_UNKNOWN: C.appIDUnrecognized,
    S.TOKEN_EXPIRED: C.sessionTokenExpired,
    S.MESSAGE_TOO_LARGE: C.invalidRequest,
    S.ROUND_AUDIO_LIMIT: C.invalidRequest,
    S.IDLE_TIMEOUT: C.idleTimeout,
    S.AUDIO_FORMAT_UNSUPPORTED: C.invalidRequest,
    RtcErrorCode.JOIN_TIMEOUT: C.idleTimeout,
    RtcErrorCode.UNAVAILABLE: C.egressUnavailable,
    RtcErrorCode.CONFIG_INVALID: C.invalidEgressConfig,
    RtcErrorCode.PEER_BACKLOG: C.egressUnavailable,
}

CONSOLE = {
    "apiKeyMissing": C.apiKeyInvalid,
    "apiKeyInvalid": C.apiKeyInvalid,
    "invalidArgument": C.invalidRequest,
    "expireAtInPast": C.invalidRequest,
    "expireAtTooFar": C.invalidRequest,
}


def server_code(code: int, message: str = "") -> C:
    mapped = SERVER.get(code)
    if mapped is not None:
        if code == S.AUDIO_FORMAT_UNSUPPORTED and "egress" in message:
            return C.invalidEgressConfig
        return mapped
    return C.serverError


def console_code(status: int, code: str | None) -> C:
    if code in CONSOLE:
        return CONSOLE[code]
    if status in (401, 403):
        return C.apiKeyInvalid
    if status == 429:
        return C.concurrentLimitExceeded
    if 400 <= status < 500:
        return C.invalidRequest
    return C.serverError
