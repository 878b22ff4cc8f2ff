"""``new_avatar_session``: builds a session's :class:`SessionConfig` and the :class:`AvatarSession` that runs it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from .config import (AUTO_REGION, AgoraEgressConfig, AudioFormat, Egress, LiveKitEgressConfig, OggOpusEncoderConfig,
                     SessionConfig, WebRtcEgressConfig, ignore)
from .errors import AvatarSDKError, AvatarSDKErrorCode, unsupported
from .session import AvatarSession


def new_avatar_session(*, avatar_id: str = "", api_key: str = "", app_id: str = "", use_query_auth: bool = False,
                       expire_at: datetime | None = None, sample_rate: int = 16000, bitrate: int = 0,
                       audio_format: AudioFormat | str = AudioFormat.PCM_S16LE,
                       ogg_opus_encoder: OggOpusEncoderConfig | None = None, on_encoded_audio=None,
                       transport_frames: Callable[[bytes, bool], None] = ignore,
                       on_error: Callable[[Exception], None] = ignore, on_close: Callable[[], None] = ignore,
                       region: str = AUTO_REGION, console_endpoint_url: str = "", ingress_endpoint_url: str = "",
                       livekit_egress: LiveKitEgressConfig | None = None,
                       agora_egress: AgoraEgressConfig | None = None, extra_params: Mapping[str, str] | None = None,
                       egress: Egress | str = Egress.websocket, webrtc_egress: WebRtcEgressConfig | None = None):
    """A configured, not yet started :class:`AvatarSession` (``await init()`` then ``await start()``, or ``async with``).

    ``transport_frames(frame_bytes, is_last)`` gets each raw ``SERVER_RESPONSE_ANIMATION`` message
    (WebSocket egress); ``on_error(AvatarSDKError)`` gets runtime failures; ``on_close()`` runs once
    the session has closed.
    """
    if livekit_egress is not None or agora_egress is not None:
        which = "livekit_egress" if livekit_egress is not None else "agora_egress"
        raise AvatarSDKError(AvatarSDKErrorCode.invalidEgressConfig, f"{which} is not supported by Facecast's "
                             "Motion Server; use egress='webrtc' (clients join with the session's join_url and "
                             "join_token) or the default WebSocket egress", phase="config")
    if ogg_opus_encoder is not None or on_encoded_audio is not None:
        raise unsupported("ogg_opus_encoder / on_encoded_audio (encoding PCM inside the SDK)",
                          "send PCM16 with audio_format=PCM_S16LE, or encode one Ogg Opus stream per request "
                          "yourself and send it with audio_format=OGG_OPUS")
    config = SessionConfig(avatar_id=avatar_id, api_key=api_key, app_id=app_id, use_query_auth=use_query_auth,
                           expire_at=expire_at, sample_rate=sample_rate, bitrate=bitrate, audio_format=audio_format,
                           transport_frames=transport_frames, on_error=on_error, on_close=on_close, region=region,
                           console_endpoint_url=console_endpoint_url, ingress_endpoint_url=ingress_endpoint_url,
                           extra_params=extra_params or {}, egress=egress, webrtc_egress=webrtc_egress)
    return AvatarSession(config)
