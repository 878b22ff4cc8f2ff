"""Server error codes and WebSocket close codes → the SDK's ``ErrorCode`` (engine/server/codes.py lists them)."""

from __future__ import annotations

from engine.errors import AvatarError, ErrorCode

SERVER_CODES = {
    3: ErrorCode.serverError,  # invalid argument: our own message was refused
    14: ErrorCode.serverError,  # unavailable
    16: ErrorCode.sessionTokenInvalid,
    4001: ErrorCode.insufficientBalance,
    4002: ErrorCode.sessionTimeout,  # session duration exceeded
    4101: ErrorCode.avatarIDUnrecognized,
    4102: ErrorCode.playbackInitFailed,  # unsupported sample rate
    4103: ErrorCode.concurrentLimitExceeded,
    4104: ErrorCode.appIDUnrecognized,
    4105: ErrorCode.sessionTokenExpired,
    4106: ErrorCode.serverError,  # message too large
    4107: ErrorCode.serverError,  # audio per round over the limit
    4108: ErrorCode.sessionTimeout,  # idle
    4109: ErrorCode.playbackInitFailed,  # unsupported audio format / egress
}
# Refusals a reconnect cannot fix: the app must change something (token, App ID, avatar) first.
FATAL = frozenset({ErrorCode.sessionTokenInvalid, ErrorCode.sessionTokenExpired, ErrorCode.appIDUnrecognized,
                   ErrorCode.avatarIDUnrecognized, ErrorCode.concurrentLimitExceeded,
                   ErrorCode.insufficientBalance, ErrorCode.playbackInitFailed, ErrorCode.sessionTimeout})
CLOSE_TOKEN_EXPIRED = 4010
CLOSE_ABNORMAL = 1006  # no close frame: the connection dropped


def server_error(code: int, message: str) -> AvatarError:
    mapped = SERVER_CODES.get(code, ErrorCode.serverError)
    return AvatarError(mapped, f"Motion Server error {code}: {message}")


def close_error(code: int | None, reason: str) -> AvatarError:
    """The error for a close the client did not ask for and no SERVER_ERROR explained."""
    if code == CLOSE_TOKEN_EXPIRED:
        return AvatarError(ErrorCode.sessionTokenExpired,
                           "the session token expired during the session; set a new one and start again")
    if code in (None, CLOSE_ABNORMAL, 1011, 1009, 1002, 1003, 1007):
        return AvatarError(ErrorCode.websocketClosedAbnormally,
                           f"the Motion Server connection dropped (close code {code}{': ' + reason if reason else ''})")
    return AvatarError(ErrorCode.websocketClosedUnexpected,
                       f"the Motion Server closed the connection (close code {code}{': ' + reason if reason else ''})")


def is_retryable_close(code: int | None) -> bool:
    """Drops and restarts are worth a reconnect; a deliberate close with a reason is not."""
    return code in (None, CLOSE_ABNORMAL, 1001, 1011, 1012, 1013, 1014)
