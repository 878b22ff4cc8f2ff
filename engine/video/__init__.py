"""Server-side video: the avatar rendered frame by frame in lockstep with the speech it says.

:class:`AvatarStream` is the engine part every video output shares (the LiveKit Agents avatar,
a WebRTC video egress): speech segments in, per video frame the rendered picture and the audio
that plays with it out, both on the engine's own audio clock.
"""

from .compose import Compositor
from .stream import AvatarStream, StreamFrame

__all__ = ["AvatarStream", "Compositor", "StreamFrame"]
