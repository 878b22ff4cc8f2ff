"""SDK configuration values: :class:`Configuration`, :class:`AudioFormat` and the regions table."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import attrs

from .enums import DrivingServiceMode, LogLevel, RenderQuality

SAMPLE_RATES = (8000, 16000, 22050, 24000, 32000, 44100, 48000)
# The motion generator a Motion Server (and the server-side video) uses unless told otherwise:
# it hears the sounds, not only the loudness (docs/lipsync.md).
DEFAULT_MOTION_GENERATOR = "phoneme"
DEFAULT_REGION = "local"
# Where the embedded Motion Server listens when `facecast serve` or the demo starts it.
LOCAL_SERVER_PORT = int(os.environ.get("FACECAST_LOCAL_PORT", "8765"))


@attrs.frozen
class AudioFormat:
    """PCM16 little-endian audio: mono only, at one of :data:`SAMPLE_RATES`."""

    channel_count: int = 1
    sample_rate: int = 16000

    def __attrs_post_init__(self) -> None:
        if self.channel_count != 1:
            raise ValueError(f"audio_format.channel_count must be 1 (mono PCM16), not {self.channel_count!r}")
        if self.sample_rate not in SAMPLE_RATES:
            allowed = ", ".join(map(str, SAMPLE_RATES))
            raise ValueError(f"audio_format.sample_rate must be one of {allowed} Hz, not {self.sample_rate!r}")

    @property
    def bytes_per_second(self) -> int:
        return 2 * self.sample_rate


@attrs.frozen
class Endpoints:
    """The three URLs of one Motion Server deployment."""

    console: str  # e.g. http://127.0.0.1:8765/v1/console
    ingress: str  # e.g. ws://127.0.0.1:8765/v2/driveningress
    assets: str  # e.g. http://127.0.0.1:8765/v1/assets

    @classmethod
    def for_base(cls, base_url: str) -> "Endpoints":
        """Endpoints of a server laid out like the embedded one, rooted at ``base_url``."""
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"endpoint must be an http(s) URL such as http://127.0.0.1:8765, not {base_url!r}")
        base = base_url.rstrip("/")
        ws = ("wss" if parts.scheme == "https" else "ws") + base[len(parts.scheme):]
        return cls(console=f"{base}/v1/console", ingress=f"{ws}/v2/driveningress", assets=f"{base}/v1/assets")


# Users add their own deployments with `register_region`; `local` is the embedded server.
REGIONS: dict[str, Endpoints] = {
    "local": Endpoints.for_base(f"http://127.0.0.1:{LOCAL_SERVER_PORT}"),
}


def register_region(name: str, base_url_or_endpoints: "str | Endpoints") -> None:
    """Add or replace an entry of the regions table."""
    if not name or not isinstance(name, str):
        raise ValueError("region name must be a non-empty string")
    ep = base_url_or_endpoints
    REGIONS[name] = ep if isinstance(ep, Endpoints) else Endpoints.for_base(ep)


def _origins(value) -> tuple[str, ...]:
    if isinstance(value, str):
        value = (value,)
    out = []
    for origin in value:
        parts = urlsplit(origin) if isinstance(origin, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/") \
                or parts.query or parts.fragment:
            raise ValueError(f"asset_origins entries must be origins like 'https://cdn.example.com', not {origin!r}")
        out.append(f"{parts.scheme}://{parts.netloc.lower()}")
    return tuple(out)


def _audio_format(value) -> AudioFormat:
    if isinstance(value, AudioFormat):
        return value
    if isinstance(value, dict):
        return AudioFormat(
            channel_count=value.get("channel_count", value.get("channelCount", 1)),
            sample_rate=value.get("sample_rate", value.get("sampleRate", 16000)),
        )
    raise ValueError(f"audio_format must be an AudioFormat or a dict, not {type(value).__name__}")


@attrs.frozen
class Configuration:
    """What ``AvatarSDK.initialize`` takes; every field is validated on construction."""

    region: str = DEFAULT_REGION
    driving_service_mode: DrivingServiceMode = attrs.field(
        default=DrivingServiceMode.direct,
        converter=lambda v: DrivingServiceMode.parse(v, "driving_service_mode"),
    )
    log_level: LogLevel = attrs.field(default=LogLevel.off, converter=lambda v: LogLevel.parse(v, "log_level"))
    audio_format: AudioFormat = attrs.field(factory=AudioFormat, converter=_audio_format)
    custom_endpoint: str | None = None
    render_quality: RenderQuality = attrs.field(
        default=RenderQuality.ultra, converter=lambda v: RenderQuality.parse(v, "render_quality")
    )
    # Not in the seed: which transport plugin drives each mode, and which renderer to force.
    transport: str | None = None
    renderer: str | None = None
    # Not in the seed: origins ("https://cdn.example.com") besides the listing's own from which avatar
    # asset files may be fetched. By default a listing may only point at its own origin, so a listing
    # cannot make the client call arbitrary hosts or local services.
    asset_origins: tuple[str, ...] = attrs.field(default=(), converter=lambda v: _origins(v))

    def endpoints(self) -> Endpoints:
        """The endpoints to talk to: ``custom_endpoint`` if set, else the region's."""
        if self.custom_endpoint:
            return Endpoints.for_base(self.custom_endpoint)
        return REGIONS[self.region]

    def __attrs_post_init__(self) -> None:
        if self.custom_endpoint:
            Endpoints.for_base(self.custom_endpoint)
        elif self.region not in REGIONS:
            known = ", ".join(sorted(REGIONS))
            raise ValueError(
                f"unknown region {self.region!r}; known regions: {known}. "
                "Add one with engine.register_region(name, base_url) or set custom_endpoint."
            )
