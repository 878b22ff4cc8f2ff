"""Facecast as a LiveKit Agents avatar (``pip install 'facecast[livekit]'``).

``AvatarSession`` publishes the rendered avatar and its speech into the agent's room from the agent's
own process; ``FacecastVideoGenerator`` is the ``VideoGenerator`` behind it, usable with any
``AvatarRunner``. See docs/livekit.md.
"""

from __future__ import annotations

try:
    import livekit.agents  # noqa: F401  (the optional extra)
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("plugins.livekit_avatar needs LiveKit Agents: pip install 'facecast[livekit]'") from exc

from .generator import FacecastVideoGenerator
from .session import AvatarSession

__all__ = ["AvatarSession", "FacecastVideoGenerator"]
