"""The Motion Server's rendered-video egress: the avatar rendered on the server and streamed over WebRTC."""

from .service import VideoService, VideoSettings

__all__ = ["VideoService", "VideoSettings"]
