"""The plugin kit: every engine name a plugin may import, in one place.

Plugins (the built-in ones under ``plugins/`` included) import from here, from ``engine`` and from
``engine.contracts`` only; everything else in ``engine`` is internal and may change without notice.
A name listed here keeps its meaning across minor versions. docs/plugins.md says what each is for.

Heavy parts (numba kernels, the protobuf module) load on first use of the name that needs them.
"""

from __future__ import annotations

import importlib

from .config import SAMPLE_RATES, AudioFormat, Endpoints
from .contracts import (
    AudioSink,
    BackendFeed,
    BackendScore,
    MotionGenerator,
    OfflineAudioSink,
    ProbeResult,
    Renderer,
    StarvationDecision,
    StarvationPolicy,
    Transport,
    TransportContext,
    TransportListener,
)
from .enums import ConnectionState
from .errors import AvatarError, ErrorCode
from .hookspecs import hookimpl

_LAZY = {
    # renderers: the frame they draw, the per-splat instance rows GPU backends upload, a window presenter
    "PreparedFrame": "engine.prepare.frame",
    "SplatProjector": "engine.prepare.projector",
    "InstanceBuffer": "engine.render.instances",
    "INSTANCE_BYTES": "engine.render.instances",
    "INSTANCE_FLOATS": "engine.render.instances",
    "SurfacePresenter": "engine.render.present",
    "to_rgba8": "engine.render.pixels",
    # audio sinks: the shared ring/clock base class and the device-less simulated device
    "RingSink": "engine.playback.sink",
    "DEFAULT_CAPACITY_S": "engine.playback.sink",
    "SimulatedSink": "engine.playback.simulated",
    # transports: the protocol's messages and codes
    "MessageType": "engine.wire.messages",
    "configure_session": "engine.wire.messages",
    "audio_input": "engine.wire.messages",
    "interrupt": "engine.wire.messages",
    "parse_message": "engine.wire.messages",
    "CloseCode": "engine.wire.codes",
    "RtcErrorCode": "engine.wire.codes",
    "ServerErrorCode": "engine.wire.codes",
    "AnimationDecoder": "engine.wire.codec",
    "encode_animation": "engine.wire.codec",
    # the RTC path: host candidates only where an IcePolicy says (loopback by default)
    "IcePolicy": "engine.rtc.ice",
    "MonoResampler": "engine.rtc.resample",
    # the registry, for a plugin that wraps or delegates to another one
    "get_plugin_manager": "engine.plugins",
    # motion generators: the keyframe layout, the named mouth shapes an avatar maps to its
    # expression coefficients, and the demo avatar's mapping
    "MOTION_FPS": "engine.motion.layout",
    "motion_dim": "engine.motion.layout",
    "samples_per_frame": "engine.motion.layout",
    "MOUTH_SHAPES": "engine.avatar.mouth",
    "validate_mouth_shapes": "engine.avatar.mouth",
    "DEMO_EXPRESSION_COUNT": "engine.avatar.demo.expressions:EXPRESSION_COUNT",
    "demo_mouth_shapes": "engine.avatar.demo.expressions:mouth_shapes",
    # video outputs: one render per session as timed frames, and the compositor that draws them
    "AvatarStream": "engine.video",
    "StreamFrame": "engine.video",
    "Compositor": "engine.video",
}
# Modules offered whole: ``kit.layout.JAW`` etc.
_MODULES = {"layout": "engine.motion.layout", "rtc_ice": "engine.rtc.ice", "rtc_framing": "engine.rtc.framing"}

__all__ = sorted([
    "AudioFormat", "AudioSink", "AvatarError", "BackendFeed", "BackendScore", "ConnectionState", "Endpoints",
    "ErrorCode", "MotionGenerator", "OfflineAudioSink", "ProbeResult", "Renderer", "SAMPLE_RATES", "StarvationDecision",
    "StarvationPolicy", "Transport", "TransportContext", "TransportListener", "hookimpl", *_LAZY, *_MODULES,
])


def __getattr__(name: str):
    if name in _MODULES:
        value = importlib.import_module(_MODULES[name])
    elif name in _LAZY:
        module, _, attribute = _LAZY[name].partition(":")
        value = getattr(importlib.import_module(module), attribute or name)
    else:
        raise AttributeError(f"engine.kit has no {name!r}; plugins may use only the names in engine.kit.__all__")
    globals()[name] = value
    return value


def __dir__():
    return __all__
