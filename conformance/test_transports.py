"""Transport conformance: a network transport against the real embedded Motion Server on 127.0.0.1.

Run on your plugin with ``facecast conformance --transport NAME``. Each check starts a Motion
Server in a temporary data directory, provisions an app and key, gets session tokens through the
console API, and drives the transport only through ``engine.contracts.Transport`` with a
recording ``TransportListener`` (docs/protocol.md is what the server speaks).
"""

from __future__ import annotations

import asyncio
import math
import time

import numpy as np
import pytest

from engine import AudioFormat, AvatarError, ConnectionState, ErrorCode
from engine.contracts import Transport, TransportContext
from engine.wire import AnimationDecoder

from .aio import async_test
from .plugin import registration
from .server import AVATAR, EXPRESSIONS, motion_server

RATE = 16000


class Recorder:
    """A TransportListener that records everything, decoding animation as the controller would."""

    def __init__(self) -> None:
        self.decoder = AnimationDecoder(EXPRESSIONS)
        self.frames: dict[str, list[int]] = {}
        self.ended: list[str] = []
        self.states: list[ConnectionState] = []
        self.errors: list[AvatarError] = []
        self.changed = asyncio.Event()

    def on_animation(self, message: bytes) -> None:
        assert isinstance(message, bytes), f"on_animation got {type(message).__name__}, not the raw envelope bytes"
        anim = self.decoder.decode(message)
        self.frames.setdefault(anim.req_id, []).extend(range(anim.start_frame, anim.start_frame + len(anim.keyframes)))
        if anim.end:
            self.ended.append(anim.req_id)
        self.changed.set()

    def on_connection_state(self, state: ConnectionState) -> None:
        self.states.append(ConnectionState(state))
        self.changed.set()

    def on_error(self, error: AvatarError) -> None:
        assert isinstance(error, AvatarError), f"on_error got {error!r}, not an AvatarError"
        self.errors.append(error)
        self.changed.set()

    async def wait_for(self, predicate, timeout: float = 15.0, what: str = "the transport") -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            self.changed.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
            try:
                await asyncio.wait_for(self.changed.wait(), remaining)
            except asyncio.TimeoutError:
                pass


def speech(seconds: float) -> bytes:
    t = np.arange(int(seconds * RATE)) / RATE
    envelope = 0.5 + 0.5 * np.sin(2 * math.pi * 3 * t)
    return (np.sin(2 * math.pi * 180 * t) * envelope * 9000).astype("<i2").tobytes()


async def stream(transport, req_id: str, seconds: float, end: bool = True) -> None:
    pcm = speech(seconds)
    step = int(0.04 * RATE) * 2
    for i in range(0, len(pcm), step):
        await transport.send_audio(req_id, pcm[i:i + step], end and i + step >= len(pcm))


class Harness:
    """Makes transports of the plugin under test against one running server, and closes them all."""

    def __init__(self, name: str, server) -> None:
        self.factory = registration("transports", name).factory
        self.server = server
        self.made: list = []

    async def make(self, token: str | None = "valid", *, app_id: str | None = None, avatar_id: str = AVATAR):
        recorder = Recorder()
        if token == "valid":
            token = await self.server.token()
        context = TransportContext(app_id=app_id or self.server.app_id, avatar_id=avatar_id,
                                   audio_format=AudioFormat(sample_rate=RATE), endpoints=self.server.endpoints,
                                   session_token=token, listener=recorder)
        transport = self.factory(context)
        self.made.append(transport)
        return transport, recorder

    async def close_all(self) -> None:
        for transport in self.made:
            await transport.close()


def transport_check(timeout: float = 60.0):
    """An async check that receives a Harness around a fresh server (and the server handle)."""

    def wrap(fn):
        @async_test(timeout)
        async def run(transport_name, tmp_path):
            async with motion_server(tmp_path) as server:
                harness = Harness(transport_name, server)
                try:
                    await fn(harness, server)
                finally:
                    await harness.close_all()

        run.__name__ = fn.__name__
        run.__qualname__ = fn.__qualname__
        run.__doc__ = fn.__doc__
        return run

    return wrap


@transport_check()
async def test_factory_makes_a_transport_of_the_contract(h, server):
    transport, recorder = await h.make()
    assert isinstance(transport, Transport), "missing connect/send_audio/interrupt/close"
    await asyncio.sleep(0.2)
    assert recorder.states == [], "a transport must not connect before connect()"
    assert server.session_count() == 0, "a transport must not dial before connect()"
    await transport.close()


@transport_check()
async def test_connect_round_trip_and_clean_close(h, server):
    transport, recorder = await h.make()
    await transport.connect()
    assert recorder.states and recorder.states[-1] is ConnectionState.connected, recorder.states
    assert ConnectionState.connecting in recorder.states, "connect() must report connecting first"
    assert server.session_count() == 1
    await stream(transport, "round-1", 1.2)
    await recorder.wait_for(lambda: "round-1" in recorder.ended, what="the end of round-1")
    assert recorder.frames["round-1"] == list(range(30)), "25 keyframes per second of audio, in order, once each"
    await transport.close()
    await transport.close()
    assert recorder.states[-1] is ConnectionState.disconnected, "close() must end in disconnected"
    assert not recorder.errors, recorder.errors
    for _ in range(50):
        if server.session_count() == 0:
            break
        await asyncio.sleep(0.02)
    assert server.session_count() == 0, "close() left the session open on the server"


@transport_check()
async def test_a_new_round_supersedes_the_last(h, server):
    transport, recorder = await h.make()
    await transport.connect()
    await stream(transport, "first", 0.4, end=False)
    await recorder.wait_for(lambda: len(recorder.frames.get("first", ())) >= 5, what="frames of 'first'")
    await stream(transport, "second", 0.4)
    await recorder.wait_for(lambda: "second" in recorder.ended, what="the end of 'second'")
    assert recorder.frames["second"] == list(range(10)), "a new req_id starts counting from keyframe 0"


@transport_check()
async def test_interrupt_stops_the_round_before_its_motion_arrives(h, server):
    """Interrupt right after sending, while the server is still answering: no frame of that round
    may reach the listener once ``interrupt`` has returned (the ones in flight are dropped too)."""
    transport, recorder = await h.make()
    await transport.connect()
    await stream(transport, "warm-up", 0.2)
    await recorder.wait_for(lambda: "warm-up" in recorder.ended, what="the end of 'warm-up'")
    await stream(transport, "stopped", 0.6, end=False)  # its motion is still being made or in flight
    await transport.interrupt("stopped")
    at_interrupt = len(recorder.frames.get("stopped", ()))
    await asyncio.sleep(0.5)
    late = len(recorder.frames.get("stopped", ())) - at_interrupt
    assert late == 0, f"{late} keyframes of the interrupted round reached the listener after interrupt() returned"
    await stream(transport, "after", 0.4)
    await recorder.wait_for(lambda: "after" in recorder.ended, what="the end of the round after the interrupt")
    assert recorder.frames["after"] == list(range(10))


@pytest.mark.parametrize("case, code", [
    ("no token", ErrorCode.sessionTokenInvalid),
    ("forged token", ErrorCode.sessionTokenInvalid),
    ("unknown app", ErrorCode.appIDUnrecognized),
    ("unknown avatar", ErrorCode.avatarIDUnrecognized),
])
def test_refusals_are_avatar_errors_with_the_sdk_code(transport_name, tmp_path, case, code):
    @async_test(60)
    async def check():
        async with motion_server(tmp_path) as server:
            h = Harness(transport_name, server)
            token = await server.token()
            kwargs = {"no token": {"token": None}, "forged token": {"token": token[:-4] + "AAAA"},
                      "unknown app": {"token": token, "app_id": "no-such-app"},
                      "unknown avatar": {"token": token, "avatar_id": "nobody"}}[case]
            transport, recorder = await h.make(**kwargs)
            try:
                with pytest.raises(AvatarError) as info:
                    await asyncio.wait_for(transport.connect(), 20)
                assert info.value.code is code, info.value
                assert ConnectionState.connected not in recorder.states
            finally:
                await h.close_all()

    check()


@transport_check()
async def test_connect_while_connecting_is_connection_in_progress(h, server):
    transport, _ = await h.make()
    first = asyncio.ensure_future(transport.connect())
    await asyncio.sleep(0)
    with pytest.raises(AvatarError) as info:
        await transport.connect()
    assert info.value.code is ErrorCode.connectionInProgress
    await first


@transport_check()
async def test_close_while_connected_releases_the_session(h, server):
    transport, recorder = await h.make()
    await transport.connect()
    await stream(transport, "open", 0.4, end=False)
    await transport.close()
    for _ in range(50):
        if server.session_count() == 0:
            break
        await asyncio.sleep(0.02)
    assert server.session_count() == 0, "close() mid-round left the session open on the server"
    assert recorder.states[-1] is ConnectionState.disconnected
    count = sum(map(len, recorder.frames.values()))
    await asyncio.sleep(0.3)
    assert sum(map(len, recorder.frames.values())) == count, "motion reached the listener after close()"


@transport_check(timeout=90)
async def test_server_going_away_and_coming_back(h, server):
    """A server restart is reported through ``on_error`` and a state change, never raised; a
    transport that says it is connected again must carry a new round end to end."""
    transport, recorder = await h.make()
    await transport.connect()
    await server.stop()
    await recorder.wait_for(lambda: recorder.states[-1] is not ConnectionState.connected,
                            what="a state change after the server went away")
    assert recorder.errors, "the lost connection was not reported through on_error"
    await server.start()  # the same port, data and signing secret
    try:
        await recorder.wait_for(lambda: recorder.states[-1] in (ConnectionState.connected, ConnectionState.failed,
                                                                 ConnectionState.disconnected),
                                timeout=20, what="the transport to reconnect or give up")
    except AssertionError:
        pytest.fail(f"still {recorder.states[-1].value} 20 s after the server came back", pytrace=False)
    if recorder.states[-1] is ConnectionState.connected:
        await stream(transport, "after-restart", 0.4)
        await recorder.wait_for(lambda: "after-restart" in recorder.ended, what="a round after reconnecting")
        assert recorder.frames["after-restart"] == list(range(10))
    await transport.close()
    assert recorder.states[-1] in (ConnectionState.disconnected, ConnectionState.failed)
