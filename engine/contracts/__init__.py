"""The contracts plugins implement: one ``typing.Protocol`` per kind, rules in the docstrings."""

from .audio_sink import AudioSink, OfflineAudioSink
from .motion_generator import MotionGenerator
from .renderer import BackendScore, ProbeResult, Renderer
from .starvation import StarvationDecision, StarvationPolicy
from .transport import BackendFeed, Transport, TransportContext, TransportListener

__all__ = [
    "AudioSink",
    "BackendFeed",
    "BackendScore",
    "MotionGenerator",
    "OfflineAudioSink",
    "ProbeResult",
    "Renderer",
    "StarvationDecision",
    "StarvationPolicy",
    "Transport",
    "TransportContext",
    "TransportListener",
]
