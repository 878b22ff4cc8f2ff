"""In-process transports for direct-mode tests, registered through a real ``PluginManager``.

``LoopbackTransport`` is a complete transport with no network: it runs the registered
``procedural`` motion generator on the audio it is sent and hands the resulting
``SERVER_RESPONSE_ANIMATION`` envelopes to the controller's listener, as the Motion Server
would. ``SilentTransport`` never confirms a session (the 15 s fallback); ``RefusingTransport``
rejects the session token.
"""

from __future__ import annotations

import asyncio

import numpy as np

import engine
from engine import AvatarError, ConnectionState, ErrorCode
from engine.contracts import TransportContext
from engine.plugins import get_plugin_manager
from engine.wire import encode_animation


class LoopbackTransport:
    instances: list["LoopbackTransport"] = []

    def __init__(self, context: TransportContext) -> None:
        self.context = context
        self.listener = context.listener
        self.rate = context.audio_format.sample_rate
        factory = get_plugin_manager().get("motion_generators", "procedural").factory
        self.generator = factory(self.rate, 50, 0)
        self.audio: dict[str, bytearray] = {}
        self.interrupted: list[str] = []
        self.current: str | None = None
        self.frame = 0
        self.closed = False
        self.connected = False
        LoopbackTransport.instances.append(self)

    async def connect(self) -> None:
        await asyncio.sleep(0)  # a real handshake yields to the loop at least once
        self.connected = True

    async def send_audio(self, req_id: str, pcm16: bytes, end: bool) -> None:
        if req_id != self.current:  # a new req_id supersedes the last round
            self.generator.reset()
            self.current, self.frame = req_id, 0
        self.audio.setdefault(req_id, bytearray()).extend(pcm16)
        frames = self.generator.feed(np.frombuffer(pcm16, "<i2"))
        if end:
            rest = self.generator.finish()
            frames = np.concatenate([frames, rest]) if len(frames) else rest
        if len(frames) or end:
            self.listener.on_animation(encode_animation("loop-1", req_id, frames, self.frame, end))
            self.frame += len(frames)

    def replay(self, req_id: str, keyframes: np.ndarray, start: int, end: bool) -> None:
        """Deliver an animation message for any round (to test stale ids)."""
        self.listener.on_animation(encode_animation("loop-1", req_id, keyframes, start, end))

    def drop(self) -> None:
        """The connection breaks mid-session."""
        self.listener.on_connection_state(ConnectionState.failed)
        self.listener.on_error(AvatarError(ErrorCode.websocketClosedAbnormally, "the Motion Server went away"))

    def come_back(self) -> None:
        """The connection is re-established after a drop."""
        self.listener.on_connection_state(ConnectionState.connecting)
        self.listener.on_connection_state(ConnectionState.connected)

    async def interrupt(self, req_id: str) -> None:
        self.interrupted.append(req_id)
        if req_id == self.current:
            self.generator.reset()
            self.current = None

    async def close(self) -> None:
        self.closed = True


class SilentTransport(LoopbackTransport):
    async def connect(self) -> None:
        await asyncio.Event().wait()  # the server never answers


class RefusingTransport(LoopbackTransport):
    async def connect(self) -> None:
        await asyncio.sleep(0)
        raise AvatarError(ErrorCode.sessionTokenInvalid, "the session token was not issued for this App ID")


class LoopbackPlugin:
    @engine.hookimpl
    def register_transports(self, register):
        register("loopback", LoopbackTransport)
        register("silent", SilentTransport)
        register("refusing", RefusingTransport)
