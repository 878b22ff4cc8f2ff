"""The backend server SDK: what a Python backend uses to hold Motion Server sessions.

Its names, parameters and errors follow the published ``spatius`` server SDK where they overlap,
so code written for it runs after changing ``import spatius`` to ``import engine.server_sdk as
spatius``; what Facecast cannot do is refused with a clear error. ::

    from engine.server_sdk import new_avatar_session

    async with new_avatar_session(avatar_id="demo", api_key=key, app_id=app, region="local",
                                  transport_frames=relay) as session:
        await session.send_audio(pcm16, end=True)

``egress="webrtc"`` makes the server push audio and motion to WebRTC peers instead: give the
client ``session.join_url`` and ``session.join_token``.
"""

from __future__ import annotations

from .config import (AgoraEgressConfig, AudioFormat, Egress, LiveKitEgressConfig, OggOpusEncoderConfig, SessionConfig,
                     WebRtcEgressConfig)
from .factory import new_avatar_session
from .errors import AvatarSDKError, AvatarSDKErrorCode, SessionTokenError
from .session import AvatarSession, SessionStateError, generate_log_id
from .tokens import clear_cache as clear_cached_session_tokens


def configure_telemetry(endpoint: str | None = None) -> None:
    """Facecast's SDK sends no telemetry: ``""`` (off) is accepted, any endpoint is refused."""
    if endpoint:
        from .errors import unsupported

        raise unsupported("telemetry export", "this SDK never sends telemetry; call configure_telemetry('') or "
                          "leave it out")


def shutdown_telemetry() -> None:
    """Nothing to flush: this SDK sends no telemetry."""


__all__ = ["AgoraEgressConfig", "AudioFormat", "AvatarSDKError", "AvatarSDKErrorCode", "AvatarSession", "Egress",
           "LiveKitEgressConfig", "OggOpusEncoderConfig", "SessionConfig", "SessionStateError", "SessionTokenError",
           "WebRtcEgressConfig", "clear_cached_session_tokens", "configure_telemetry", "generate_log_id",
           "new_avatar_session", "shutdown_telemetry"]
