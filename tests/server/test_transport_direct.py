"""The ``direct`` transport plugin against the real embedded server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import time

import pytest

from engine import AudioFormat, AvatarError, ConnectionState, ErrorCode
from engine.contracts import Transport, TransportContext
from engine.plugins import get_plugin_manager
from engine.server import MotionServer
from engine.wire import AnimationDecoder

from .raw_client import speech_like


class RecordingListener:
    """A real TransportListener that keeps what it is told."""

    def __init__(self, expression_count: int) -> None:
        self.decoder = AnimationDecoder(expression_count)
        self.frames: dict[str, set[int]] = {}
        self.ends: list[str] = []
        self.states: list[ConnectionState] = []
        self.errors: list[AvatarError] = []
        self.changed = asyncio.Event()

    def on_animation(self, message: bytes) -> None:
        anim = self.decoder.decode(message)
        got = self.frames.setdefault(anim.req_id, set())
        got.update(range(anim.start_frame, anim.start_frame + len(anim.keyframes)))
        if anim.end:
            self.ends.append(anim.req_id)
        self.changed.set()

    def on_connection_state(self, state: ConnectionState) -> None:
        self.states.append(state)
        self.changed.set()

    def on_error(self, error: AvatarError) -> None:
        self.errors.append(error)
        self.changed.set()

    async def wait_for(self, predicate, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), max(0.01, deadline - time.monotonic()))


def make_transport(motion_server, token, *, app_id=None, avatar_id=None, endpoints=None, **options):
    listener = RecordingListener(motion_server.expression_count)
    ctx = TransportContext(app_id=app_id or motion_server.app_id, avatar_id=avatar_id or motion_server.avatar_id,
                           audio_format=AudioFormat(sample_rate=16000),
                           endpoints=endpoints or motion_server.server.endpoints, session_token=token,
                           listener=listener)
    factory = get_plugin_manager().get("transports", "direct").factory
    transport = factory(ctx, **options) if options else factory(ctx)
    return transport, listener


async def send_round(transport, req_id: str, seconds: float, chunk_s: float = 0.04) -> None:
    pcm = speech_like(seconds)
    step = int(chunk_s * 16000) * 2
    for i in range(0, len(pcm), step):
        await transport.send_audio(req_id, pcm[i:i + step], i + step >= len(pcm))


async def test_round_trip_and_clean_close(motion_server):
    transport, listener = make_transport(motion_server, await motion_server.token())
    assert isinstance(transport, Transport)
    await transport.connect()
    assert listener.states == [ConnectionState.connecting, ConnectionState.connected]
    await send_round(transport, "r1", 1.0)
    await listener.wait_for(lambda: "r1" in listener.ends)
    assert listener.frames["r1"] == set(range(25)) and not listener.errors
    await transport.close()
    await transport.close()  # idempotent
    assert listener.states[-1] == ConnectionState.disconnected
    await asyncio.sleep(0.05)
    assert motion_server.server.session_count() == 0
    leftover = [t for t in asyncio.all_tasks() if "facecast" in t.get_name()]
    assert not leftover


async def test_connect_twice_is_connection_in_progress(motion_server):
    transport, _ = make_transport(motion_server, await motion_server.token())
    first = asyncio.create_task(transport.connect())
    await asyncio.sleep(0)
    with pytest.raises(AvatarError) as exc:
        await transport.connect()
    assert exc.value.code == ErrorCode.connectionInProgress
    await first
    await transport.close()


async def refused(motion_server, token, **kw) -> ErrorCode:
    transport, listener = make_transport(motion_server, token, **kw)
    with pytest.raises(AvatarError) as exc:
        await transport.connect()
    # Without a token there is nothing to try: it fails before any connection state.
    expected = [ConnectionState.connecting, ConnectionState.failed] if token else []
    assert listener.states == expected
    await transport.close()
    return exc.value.code


async def test_refusals_map_onto_sdk_error_codes(motion_server):
    token = await motion_server.token()
    signer = motion_server.server.signer
    expired = signer.issue(motion_server.app_id, int(time.time()) - 50, now=time.time() - 100)
    assert await refused(motion_server, None) == ErrorCode.sessionTokenInvalid
    assert await refused(motion_server, token[:-3] + "abc") == ErrorCode.sessionTokenInvalid
    assert await refused(motion_server, expired) == ErrorCode.sessionTokenExpired
    assert await refused(motion_server, token, app_id="no-such-app") == ErrorCode.appIDUnrecognized
    assert await refused(motion_server, token, avatar_id="nobody") == ErrorCode.avatarIDUnrecognized


async def test_concurrent_limit_maps(motion_server):
    token = await motion_server.token()
    limit = motion_server.server.limits.max_sessions_per_app
    open_ones = []
    for _ in range(limit):
        t, _ = make_transport(motion_server, token)
        await t.connect()
        open_ones.append(t)
    try:
        assert await refused(motion_server, token) == ErrorCode.concurrentLimitExceeded
    finally:
        await asyncio.gather(*(t.close() for t in open_ones))


async def test_unreachable_server_fails_after_the_connect_deadline(motion_server, unused_tcp_port):
    from engine import Endpoints

    dead = Endpoints.for_base(f"http://127.0.0.1:{unused_tcp_port}")
    transport, listener = make_transport(motion_server, "x", endpoints=dead, connect_timeout=0.8)
    started = time.monotonic()
    with pytest.raises(AvatarError) as exc:
        await transport.connect()
    assert exc.value.code == ErrorCode.websocketError
    assert 0.7 < time.monotonic() - started < 3
    assert listener.states == [ConnectionState.connecting, ConnectionState.failed]


async def test_interrupt_stops_the_round_for_the_listener(motion_server):
    transport, listener = make_transport(motion_server, await motion_server.token())
    await transport.connect()
    await transport.send_audio("a", speech_like(0.4), False)
    await listener.wait_for(lambda: len(listener.frames.get("a", ())) == 10)
    await transport.interrupt("a")
    await transport.send_audio("a", speech_like(0.4), True)
    await send_round(transport, "b", 0.2)
    await listener.wait_for(lambda: "b" in listener.ends)
    assert listener.frames["a"] == set(range(10)) and "a" not in listener.ends
    await transport.close()


async def test_token_expiring_mid_session_reports_expired_and_fails(motion_server):
    token = motion_server.server.signer.issue(motion_server.app_id, int(time.time()) + 1)
    transport, listener = make_transport(motion_server, token)
    await transport.connect()
    await listener.wait_for(lambda: listener.states[-1] == ConnectionState.failed, timeout=5)
    assert [e.code for e in listener.errors] == [ErrorCode.sessionTokenExpired]
    await transport.close()


async def test_server_restart_mid_round_reconnects_and_loses_no_motion(motion_server):
    token = await motion_server.token()
    transport, listener = make_transport(motion_server, token, backoff_s=(0.05, 0.2))
    await transport.connect()
    pcm = speech_like(2.0)
    await transport.send_audio("r", pcm[:32000], False)  # first second
    await listener.wait_for(lambda: len(listener.frames.get("r", ())) == 25)
    old = motion_server.server
    port, data_dir = old.port, old.data_dir
    await old.stop()  # SERVER_ERROR 14 + close 1001: the transport reconnects
    restarted = MotionServer(data_dir=data_dir, motion_generator="procedural")  # as the fixture's
    await restarted.start("127.0.0.1", port)
    try:
        await transport.send_audio("r", pcm[32000:], True)  # second second, sent during the outage
        await listener.wait_for(lambda: "r" in listener.ends)
        assert listener.frames["r"] == set(range(50))
        assert ConnectionState.connecting in listener.states[2:] and listener.states[-1] == ConnectionState.connected
        assert any(e.code == ErrorCode.websocketClosedUnexpected for e in listener.errors)
    finally:
        await transport.close()
        await restarted.stop()


async def test_server_killed_mid_round_reports_abnormal_close_then_failed(server_process):
    """A server process that dies (SIGKILL, no close frame) is retried a bounded number of times."""
    import signal

    from engine import Endpoints
    from tests.fixtures.server import TEST_AVATAR_ID, TEST_EXPRESSIONS

    listener = RecordingListener(TEST_EXPRESSIONS)
    ctx = TransportContext(app_id=server_process.app_id, avatar_id=TEST_AVATAR_ID,
                           audio_format=AudioFormat(sample_rate=16000), endpoints=Endpoints.for_base(server_process.base_url),
                           session_token=await server_process.token(), listener=listener)
    transport = get_plugin_manager().get("transports", "direct").factory(ctx, max_reconnects=3, backoff_s=(0.05, 0.1))
    await transport.connect()
    await transport.send_audio("r", speech_like(0.4), False)
    await listener.wait_for(lambda: len(listener.frames.get("r", ())) == 10)
    server_process.proc.send_signal(signal.SIGKILL)
    server_process.proc.wait(10)
    await listener.wait_for(lambda: listener.states[-1] == ConnectionState.failed, timeout=10)
    assert listener.states == [ConnectionState.connecting, ConnectionState.connected,
                               ConnectionState.connecting, ConnectionState.failed]
    codes = [e.code for e in listener.errors]
    assert codes == [ErrorCode.websocketClosedAbnormally, ErrorCode.websocketError]
    await transport.send_audio("r", speech_like(0.4), True)  # after failure: dropped, never raises
    await transport.close()


async def test_long_audio_is_sent_in_chunks_under_the_message_limit(motion_server):
    transport, listener = make_transport(motion_server, await motion_server.token(), chunk_seconds=0.25)
    await transport.connect()
    limit_s = motion_server.server.limits.max_message_bytes / 32000
    await transport.send_audio("long", speech_like(limit_s + 2.0), True)  # one buffer over the server's limit
    await listener.wait_for(lambda: "long" in listener.ends)
    assert listener.frames["long"] == set(range(int((limit_s + 2.0) * 25 + 0.999)))
    assert not listener.errors
    await transport.close()


async def test_a_server_that_never_confirms_times_out_without_leaking(unused_tcp_port):
    """A WebSocket peer that accepts but never answers configure: connect fails with sessionTimeout."""
    import websockets

    from engine import Endpoints

    peers = []

    async def silent(ws):
        peers.append(ws)
        await ws.wait_closed()

    async with websockets.serve(silent, "127.0.0.1", unused_tcp_port):
        listener = RecordingListener(50)
        ctx = TransportContext(app_id="a", avatar_id="b", audio_format=AudioFormat(sample_rate=16000),
                               endpoints=Endpoints.for_base(f"http://127.0.0.1:{unused_tcp_port}"),
                               session_token="t", listener=listener)
        transport = get_plugin_manager().get("transports", "direct").factory(ctx, connect_timeout=1.0,
                                                                             confirm_timeout=0.3)
        with pytest.raises(AvatarError) as exc:
            await transport.connect()
        assert exc.value.code == ErrorCode.sessionTimeout  # no confirm within confirm_timeout
        await transport.close()
        # Cancelled while waiting for the confirm (the controller's own deadline): the socket is dropped too.
        patient = get_plugin_manager().get("transports", "direct").factory(ctx, confirm_timeout=30.0)
        task = asyncio.create_task(patient.connect())
        while len(peers) < 2:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await patient.close()
        await asyncio.sleep(0.1)
        assert len(peers) == 2 and all(p.state.name == "CLOSED" for p in peers)  # no socket left open
