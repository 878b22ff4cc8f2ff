"""The one exception type the engine raises at its public surface, and its codes.

Every failure a user can cause or meet (bad arguments, bad credentials, corrupt
packages, closed sockets) surfaces as :class:`AvatarError` carrying one of the
22 :class:`ErrorCode` values of the SDK we mirror, and a message that says what
went wrong and what to do about it.
"""

from __future__ import annotations

import enum


class ErrorCode(str, enum.Enum):
    appIDUnrecognized = "appIDUnrecognized"
    sessionTokenInvalid = "sessionTokenInvalid"
    sessionTokenExpired = "sessionTokenExpired"
    insufficientBalance = "insufficientBalance"
    concurrentLimitExceeded = "concurrentLimitExceeded"
    avatarIDUnrecognized = "avatarIDUnrecognized"
    failedToFetchAvatarMetadata = "failedToFetchAvatarMetadata"
    invalidAvatarMetadata = "invalidAvatarMetadata"
    failedToDownloadAvatarAssets = "failedToDownloadAvatarAssets"
    websocketError = "websocketError"
    websocketClosedAbnormally = "websocketClosedAbnormally"
    websocketClosedUnexpected = "websocketClosedUnexpected"
    sessionTimeout = "sessionTimeout"
    connectionInProgress = "connectionInProgress"
    networkLayerNotAvailable = "networkLayerNotAvailable"
    playbackStartFailed = "playbackStartFailed"
    playbackInitFailed = "playbackInitFailed"
    audioOnlyInitFailed = "audioOnlyInitFailed"
    noAudio = "noAudio"
    audioContextNotInitialized = "audioContextNotInitialized"
    animationPlayerNotInitialized = "animationPlayerNotInitialized"
    serverError = "serverError"

    def __str__(self) -> str:
        return self.value


class AvatarError(Exception):
    """An engine failure with a machine-readable :attr:`code`.

    ``error.message`` is the human message; ``error.code`` the :class:`ErrorCode`.
    The SDK has no code for a plain bad argument, so such errors carry the code
    of the subsystem the argument was meant for (a bad sample rate is a
    ``playbackInitFailed``, a bad App ID an ``appIDUnrecognized``) and say in the
    message which argument is wrong and which values are allowed.
    """

    def __init__(self, code: ErrorCode | str, message: str) -> None:
        self.code = ErrorCode(code)
        self.message = message
        super().__init__(message)

    def __repr__(self) -> str:
        return f"AvatarError({self.code.value!r}, {self.message!r})"

    def __str__(self) -> str:
        return f"[{self.code.value}] {self.message}"

    def __reduce__(self):  # keep picklable across the device-score subprocess
        return (type(self), (self.code.value, self.message))
