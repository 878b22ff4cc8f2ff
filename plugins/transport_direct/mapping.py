"""Server error codes and WebSocket close codes (``engine.wire.codes``) → the SDK's ``ErrorCode``."""

from __future__ import annotations

from engine import AvatarError, ErrorCode
from engine.kit import CloseCode, ServerErrorCode as S

SERVER_CODES = {
    S.INVALID_ARGUMENT: ErrorCode.serverError,  # our own message was refused
    S.UNAVAILABLE: ErrorCode.serverError,
    S.UNAUTHENTICATED: ErrorCode.sessionTokenInvalid,
    S.INSUFFICIENT_BALANCE: ErrorCode.insufficientBalance,
    S.SESSION_DURATION_EXCEEDED: ErrorCode.sessionTimeout,
    S.AVATAR_UNKNOWN: ErrorCode.avatarIDUnrecognized,
    S.SAMPLE_RATE_UNSUPPORTED: ErrorCode.playbackInitFailed,
    S.CONCURRENT_LIMIT: ErrorCode.concurrentLimitExceeded,
    S.APP_UNKNOWN: ErrorCode.appIDUnrecognized,
    S.TOKEN_EXPIRED: ErrorCode.sessionTokenExpired,
    S.MESSAGE_TOO_LARGE: ErrorCode.serverError,
    S.ROUND_AUDIO_LIMIT: ErrorCode.serverError,
    S.IDLE_TIMEOUT: ErrorCode.sessionTimeout,
    S.AUDIO_FORMAT_UNSUPPORTED: ErrorCode.playbackInitFailed,
}
# Refusals a reconnect cannot fix: the app must change something (token, App ID, avatar) first.
FATAL = frozenset({ErrorCode.sessionTokenInvalid, ErrorCode.sessionTokenExpired, ErrorCode.appIDUnrecognized,
                   ErrorCode.avatarIDUnrecognized, ErrorCode.concurrentLimitExceeded,
                   ErrorCode.insufficientBalance, ErrorCode.playbackInitFailed, ErrorCode.sessionTimeout})
_DROPPED = frozenset({None, CloseCode.ABNORMAL, CloseCode.INTERNAL_ERROR, CloseCode.MESSAGE_TOO_BIG,
                      CloseCode.PROTOCOL_ERROR, CloseCode.UNSUPPORTED_DATA, CloseCode.INVALID_PAYLOAD})
_RETRYABLE = frozenset({None, CloseCode.ABNORMAL, CloseCode.GOING_AWAY, CloseCode.INTERNAL_ERROR,
                        CloseCode.SERVICE_RESTART, CloseCode.TRY_AGAIN_LATER, CloseCode.BAD_GATEWAY})


def server_error(code: int, message: str) -> AvatarError:
    mapped = SERVER_CODES.get(code, ErrorCode.serverError)
    return AvatarError(mapped, f"Motion Server error {code}: {message}")


def close_error(code: int | None, reason: str) -> AvatarError:
    """The error for a close the client did not ask for and no SERVER_ERROR explained."""
    if code == CloseCode.TOKEN_EXPIRED:
        return AvatarError(ErrorCode.sessionTokenExpired,
                           "the session token expired during the session; set a new one and start again")
    if code in _DROPPED:
        return AvatarError(ErrorCode.websocketClosedAbnormally,
                           f"the Motion Server connection dropped (close code {code}{': ' + reason if reason else ''})")
    return AvatarError(ErrorCode.websocketClosedUnexpected,
                       f"the Motion Server closed the connection (close code {code}{': ' + reason if reason else ''})")


def is_retryable_close(code: int | None) -> bool:
    """Drops and restarts are worth a reconnect; a deliberate close with a reason is not."""
    return code in _RETRYABLE


def is_token_expiry(code: int | None) -> bool:
    return code == CloseCode.TOKEN_EXPIRED
