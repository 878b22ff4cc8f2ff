"""The SDK's enums, as ``str`` enums with the seed's exact string values."""

from __future__ import annotations

import enum

import attrs


class _StrEnum(str, enum.Enum):
    def __str__(self) -> str:
        return self.value

    @classmethod
    def parse(cls, value: "str | _StrEnum", what: str):
        """Return the member for ``value`` or raise ``ValueError`` naming the choices."""
        try:
            return cls(value)
        except ValueError:
            choices = ", ".join(repr(m.value) for m in cls)
            raise ValueError(f"{what} must be one of {choices}, not {value!r}") from None


class DrivingServiceMode(_StrEnum):
    direct = "direct"
    backend = "backend"


class RenderQuality(_StrEnum):
    standard = "standard"
    high = "high"
    ultra = "ultra"


class FrameStarvationMode(_StrEnum):
    audioIndependent = "audioIndependent"
    strictSync = "strictSync"


class AnimationType(_StrEnum):
    idle = "idle"
    mono = "mono"


class LogLevel(_StrEnum):
    off = "off"
    error = "error"
    warning = "warning"
    all = "all"


class ConnectionState(_StrEnum):
    disconnected = "disconnected"
    connecting = "connecting"
    connected = "connected"
    failed = "failed"


class ConversationState(_StrEnum):
    idle = "idle"
    playing = "playing"
    paused = "paused"


class LoadProgressType(_StrEnum):
    downloading = "downloading"
    completed = "completed"
    failed = "failed"


@attrs.frozen
class LoadProgressInfo:
    """One progress report of ``AvatarManager.load``: ``progress`` is 0..1 while downloading."""

    type: LoadProgressType = attrs.field(converter=LoadProgressType)
    progress: float | None = None
    error: BaseException | None = None
    # Not in the seed: while downloading, seconds since the last byte arrived once the transfer has
    # stalled (AvatarManager.stall_report_s); 0.0 while bytes flow.
    stalled_s: float = 0.0
