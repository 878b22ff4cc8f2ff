"""The server SDK's errors: one exception type with a stable string code, plus the token-exchange subtype.

The codes and attributes are those of the published ``spatius`` server SDK, so an ``except``
clause written for it keeps working; codes it does not have (``apiKeyInvalid``,
``concurrentLimitExceeded``, ``unsupportedParameter``) are this SDK's additions.
"""

from __future__ import annotations

import enum


class AvatarSDKErrorCode(str, enum.Enum):
    sessionTokenExpired = "sessionTokenExpired"
    sessionTokenInvalid = "sessionTokenInvalid"
    appIDUnrecognized = "appIDUnrecognized"
    appIDMismatch = "appIDMismatch"
    avatarNotFound = "avatarNotFound"
    billingRequired = "billingRequired"
    creditsExhausted = "creditsExhausted"
    sessionDurationExceeded = "sessionDurationExceeded"
    unsupportedSampleRate = "unsupportedSampleRate"
    invalidEgressConfig = "invalidEgressConfig"
    egressUnavailable = "egressUnavailable"
    idleTimeout = "idleTimeout"
    upstreamError = "upstreamError"
    invalidRequest = "invalidRequest"
    connectionFailed = "connectionFailed"
    connectionClosed = "connectionClosed"
    protocolError = "protocolError"
    serverError = "serverError"
    unknown = "unknown"
    # This SDK's own:
    apiKeyInvalid = "apiKeyInvalid"
    concurrentLimitExceeded = "concurrentLimitExceeded"
    unsupportedParameter = "unsupportedParameter"

    def __str__(self) -> str:
        return self.value


class AvatarSDKError(Exception):
    """A failure with a stable :attr:`code` and where it happened (:attr:`phase`: ``session_token``,
    ``websocket_connect``, ``websocket_handshake``, ``websocket_runtime``, ``websocket_send``, ``config``)."""

    def __init__(self, code: AvatarSDKErrorCode, message: str, *, phase: str = "unknown",
                 http_status: int | None = None, server_code: str | None = None, server_title: str | None = None,
                 server_detail: str | None = None, connection_id: str | None = None, req_id: str | None = None,
                 raw_body: str | None = None, close_code: int | None = None, close_reason: str | None = None) -> None:
        super().__init__(message)
        self.code = AvatarSDKErrorCode(code)
        self.message = message
        self.phase = phase
        self.http_status = http_status
        self.server_code = server_code
        self.server_title = server_title
        self.server_detail = server_detail
        self.connection_id = connection_id
        self.req_id = req_id
        self.raw_body = raw_body
        self.close_code = close_code
        self.close_reason = close_reason

    def __str__(self) -> str:
        return f"{self.code.value}: {self.message}"

    def __repr__(self) -> str:
        return f"AvatarSDKError({self.code.value!r}, {self.message!r}, phase={self.phase!r})"


class SessionTokenError(AvatarSDKError):
    """The API key → session token exchange failed (phase ``session_token``)."""

    def __init__(self, message: str, *, code: AvatarSDKErrorCode = AvatarSDKErrorCode.invalidRequest,
                 phase: str = "session_token", **details) -> None:
        super().__init__(code, message, phase=phase, **details)


def unsupported(what: str, instead: str) -> AvatarSDKError:
    return AvatarSDKError(AvatarSDKErrorCode.unsupportedParameter, f"{what} is not supported by Facecast's "
                          f"server SDK; {instead}", phase="config")
