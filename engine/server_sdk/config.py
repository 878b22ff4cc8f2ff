"""What a backend configures for one Motion Server session (``new_avatar_session`` in factory.py builds it).

Parameter names, defaults and meanings follow the published ``spatius`` server SDK, so code
written for it runs after changing its import. What Facecast cannot do is refused when the
session is built, with an :class:`AvatarSDKError` (``unsupportedParameter`` or
``invalidEgressConfig``) that says what to use instead — never silently ignored.

Facecast's own additions: ``egress`` (``"websocket"``, the default: animation comes back over the
session's WebSocket to ``transport_frames``; ``"webrtc"``: the server pushes audio and motion to
WebRTC peers that join with the session's join URL and token; ``"webrtc-video"``: the server
renders the avatar and streams it to viewers that join the same way) and ``webrtc_egress``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone

import attrs

from ..config import REGIONS, SAMPLE_RATES
from .errors import AvatarSDKError, AvatarSDKErrorCode, unsupported

DEFAULT_SESSION_TOKEN_TTL = timedelta(hours=1)
AUTO_REGION = "auto"


class AudioFormat(str, enum.Enum):
    """The session's input: raw mono PCM16 LE, or one continuous Ogg Opus stream per request."""

    PCM_S16LE = "pcm_s16le"
    OGG_OPUS = "ogg_opus"


class Egress(str, enum.Enum):
    websocket = "websocket"
    webrtc = "webrtc"
    webrtc_video = "webrtc-video"  # the server renders the avatar; viewers join as for webrtc (docs/video.md)

    @property
    def joinable(self) -> bool:
        """Peers join this egress with the session's join URL and token."""
        return self in (Egress.webrtc, Egress.webrtc_video)


@attrs.frozen
class WebRtcEgressConfig:
    """Limits a backend may set on its session's WebRTC egress (0: the server's default; never above its limit)."""

    max_joins: int = 0
    max_peers: int = 0
    join_timeout_s: float = 0
    join_token_ttl_s: int = 0


@attrs.frozen
class LiveKitEgressConfig:
    """Accepted so that code written for ``spatius`` imports; a session given one is refused (use WebRTC egress)."""

    url: str = ""
    api_key: str = attrs.field(default="", repr=False)
    api_secret: str = attrs.field(default="", repr=False)
    api_token: str = attrs.field(default="", repr=False)
    room_name: str = ""
    publisher_id: str = ""
    extra_attributes: Mapping[str, str] = attrs.field(factory=dict)
    idle_timeout: int = 0


@attrs.frozen
class AgoraEgressConfig:
    """Accepted so that code written for ``spatius`` imports; a session given one is refused (use WebRTC egress)."""

    channel_name: str = ""
    token: str = attrs.field(default="", repr=False)
    uid: int = 0
    publisher_id: str = ""


@attrs.frozen
class OggOpusEncoderConfig:
    """Accepted so that code written for ``spatius`` imports; a session given one is refused (send Ogg Opus)."""

    frame_duration_ms: int = 20
    application: str = "voip"


def ignore(*_args) -> None:
    return None


def _utc(value: datetime | None) -> datetime:
    if value is None:
        return datetime.now(timezone.utc) + DEFAULT_SESSION_TOKEN_TTL
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


@attrs.frozen
class SessionConfig:
    """Everything one :class:`AvatarSession` needs; validated on construction."""

    avatar_id: str = ""
    api_key: str = attrs.field(default="", repr=False)
    app_id: str = ""
    use_query_auth: bool = False
    expire_at: datetime = attrs.field(default=None, converter=_utc)
    sample_rate: int = 16000
    bitrate: int = 0
    audio_format: AudioFormat = attrs.field(default=AudioFormat.PCM_S16LE, converter=AudioFormat)
    transport_frames: Callable[[bytes, bool], None] = ignore
    on_error: Callable[[Exception], None] = ignore
    on_close: Callable[[], None] = ignore
    region: str = AUTO_REGION
    console_endpoint_url: str = ""
    ingress_endpoint_url: str = ""
    extra_params: Mapping[str, str] = attrs.field(factory=dict, converter=dict)
    egress: Egress = attrs.field(default=Egress.websocket, converter=Egress)
    webrtc_egress: WebRtcEgressConfig | None = None

    def __attrs_post_init__(self) -> None:
        if self.sample_rate not in SAMPLE_RATES:
            raise AvatarSDKError(AvatarSDKErrorCode.unsupportedSampleRate, f"sample_rate {self.sample_rate} is not "
                                 f"one of {', '.join(map(str, SAMPLE_RATES))} Hz", phase="config")
        if self.webrtc_egress is not None and not self.egress.joinable:
            object.__setattr__(self, "egress", Egress.webrtc)
        if not (self.console_endpoint_url and self.ingress_endpoint_url):
            region = self.region.strip()
            if region == AUTO_REGION:
                raise unsupported("region='auto' (resolved through the Spatius bootstrap API)",
                                  "pass console_endpoint_url and ingress_endpoint_url, or region='local' "
                                  "(the embedded server) or a region added with engine.register_region()")
            if region not in REGIONS:
                raise unsupported(f"region {region!r}", f"known regions are {', '.join(sorted(REGIONS))}; add one "
                                  "with engine.register_region(name, base_url) or pass explicit endpoint URLs")
            endpoints = REGIONS[region]
            object.__setattr__(self, "console_endpoint_url", self.console_endpoint_url or endpoints.console)
            object.__setattr__(self, "ingress_endpoint_url", self.ingress_endpoint_url or endpoints.ingress)
