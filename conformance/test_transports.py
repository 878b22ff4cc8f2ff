"""Transport conformance: a network transport against the real embedded Motion Server on 127.0.0.1.

Run on your plugin with ``facecast conformance --transport NAME``. The suite starts a Motion
Server in a temporary data directory, provisions an app and key, gets session tokens through the
console API, and drives the transport only through ``engine.contracts.Transport`` with a
recording ``TransportListener``.
"""

from __future__ import annotations

import asyncio
import json
import math
import time

import aiohttp
import numpy as np
import pytest

from engine import AudioFormat, AvatarError, ConnectionState, ErrorCode
from engine.contracts import Transport, TransportContext
from engine.wire import AnimationDecoder

RATE = 16000
AVATAR = "conformance-head"
EXPRESSIONS = 50


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
        anim = self.decoder.decode(message)
        self.frames.setdefault(anim.req_id, []).extend(range(anim.start_frame, anim.start_frame + len(anim.keyframes)))
        if anim.end:
            self.ended.append(anim.req_id)
        self.changed.set()

    def on_connection_state(self, state: ConnectionState) -> None:
        self.states.append(state)
        self.changed.set()

    def on_error(self, error: AvatarError) -> None:
        assert isinstance(error, AvatarError), f"on_error got {error!r}, not an AvatarError"
        self.errors.append(error)
        self.changed.set()

    async def wait_for(self, predicate, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            self.changed.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("timed out waiting for the transport")
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


@pytest.fixture
async def server(tmp_path):
    from engine.server import MotionServer
    from engine.server.provision import provision_if_empty

    data = tmp_path / "motion-server"
    package = data / "avatars" / AVATAR
    package.mkdir(parents=True)
    (package / "manifest.json").write_text(json.dumps({"id": AVATAR, "expression_count": EXPRESSIONS}))
    motion_server = MotionServer(data_dir=data)
    setup = provision_if_empty(motion_server.store)
    motion_server.store.grant(setup.app_id, AVATAR)
    await motion_server.start("127.0.0.1", 0)
    motion_server.conformance_setup = setup
    try:
        yield motion_server
    finally:
        await motion_server.stop()


async def _token(server, ttl_s: float = 600) -> str:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.base_url}/v1/console/session-tokens",
                             headers={"X-Api-Key": server.conformance_setup.api_key},
                             json={"expireAt": int(time.time() + ttl_s)}) as resp:
            assert resp.status == 200, await resp.text()
            return (await resp.json())["sessionToken"]


@pytest.fixture
def make_transport(transport_name, server):
    from engine.plugins import get_plugin_manager

    try:
        factory = get_plugin_manager().get("transports", transport_name).factory
    except KeyError as exc:
        pytest.fail(str(exc.args[0]))
    made = []

    async def make(token: str | None = "valid", *, app_id: str | None = None, avatar_id: str = AVATAR):
        recorder = Recorder()
        if token == "valid":
            token = await _token(server)
        context = TransportContext(app_id=app_id or server.conformance_setup.app_id, avatar_id=avatar_id,
                                   audio_format=AudioFormat(sample_rate=RATE), endpoints=server.endpoints,
                                   session_token=token, listener=recorder)
        transport = factory(context)
        made.append(transport)
        return transport, recorder

    yield make


async def test_factory_makes_a_transport_of_the_contract(make_transport):
    transport, recorder = await make_transport()
    assert isinstance(transport, Transport)
    assert recorder.states == [], "a transport must not connect before connect()"
    await transport.close()


async def test_connect_round_trip_and_clean_close(make_transport, server):
    transport, recorder = await make_transport()
    await transport.connect()
    assert recorder.states[-1] is ConnectionState.connected
    assert ConnectionState.connecting in recorder.states
    await stream(transport, "round-1", 1.2)
    await recorder.wait_for(lambda: "round-1" in recorder.ended)
    assert recorder.frames["round-1"] == list(range(30)), "25 keyframes per second of audio, in order, once each"
    await transport.close()
    await transport.close()
    assert recorder.states[-1] is ConnectionState.disconnected
    assert not recorder.errors
    await asyncio.sleep(0.1)
    assert server.session_count() == 0, "close() left the session open on the server"


async def test_a_new_round_supersedes_and_interrupt_stops(make_transport):
    transport, recorder = await make_transport()
    await transport.connect()
    await stream(transport, "first", 0.8, end=False)
    await recorder.wait_for(lambda: len(recorder.frames.get("first", ())) >= 5)
    await transport.interrupt("first")
    await asyncio.sleep(0.3)
    count = len(recorder.frames.get("first", ()))
    await stream(transport, "second", 0.4)
    await recorder.wait_for(lambda: "second" in recorder.ended)
    assert len(recorder.frames["first"]) == count, "frames of an interrupted round kept arriving"
    assert recorder.frames["second"] == list(range(10))
    await transport.close()


@pytest.mark.parametrize("case, code", [
    ("no token", ErrorCode.sessionTokenInvalid),
    ("forged token", ErrorCode.sessionTokenInvalid),
    ("unknown app", ErrorCode.appIDUnrecognized),
    ("unknown avatar", ErrorCode.avatarIDUnrecognized),
])
async def test_refusals_are_avatar_errors_with_the_sdk_code(make_transport, server, case, code):
    token = await _token(server)
    kwargs = {"no token": {"token": None}, "forged token": {"token": token[:-4] + "AAAA"},
              "unknown app": {"token": token, "app_id": "no-such-app"},
              "unknown avatar": {"token": token, "avatar_id": "nobody"}}[case]
    transport, recorder = await make_transport(**kwargs)
    with pytest.raises(AvatarError) as info:
        await asyncio.wait_for(transport.connect(), 20)
    assert info.value.code is code, info.value
    assert ConnectionState.connected not in recorder.states
    await transport.close()


async def test_connect_while_connecting_is_connection_in_progress(make_transport):
    transport, _ = await make_transport()
    first = asyncio.ensure_future(transport.connect())
    await asyncio.sleep(0)
    with pytest.raises(AvatarError) as info:
        await transport.connect()
    assert info.value.code is ErrorCode.connectionInProgress
    await first
    await transport.close()


async def test_server_going_away_is_reported_not_raised(make_transport, server):
    transport, recorder = await make_transport()
    await transport.connect()
    await server.stop()
    # The transport may retry (connecting) or give up (failed/disconnected), but must say so.
    await recorder.wait_for(lambda: recorder.states[-1] is not ConnectionState.connected)
    assert recorder.errors, "the lost connection was not reported through on_error"
    await transport.close()
    assert recorder.states[-1] in (ConnectionState.disconnected, ConnectionState.failed)
