"""Each server limit, breached on purpose, gets its own SERVER_ERROR code; the token expiring
mid-session closes with 4010; shutdown closes sessions with 1001."""

from __future__ import annotations

import asyncio
import time

import pytest
import websockets

from engine.server import Limits
from engine.server.codes import ServerErrorCode as E

from .raw_client import audio, open_session, parse, recv_round, recv_until_closed, speech_like


@pytest.fixture
def server_limits() -> Limits:
    return Limits(max_message_bytes=8192, max_round_audio_s=1.0, max_session_s=2.0, idle_timeout_s=0.6,
                  configure_timeout_s=0.4, max_sessions_per_app=2)


async def test_message_over_the_size_limit(motion_server):
    token = await motion_server.token()
    ws, _ = await open_session(motion_server.ingress_url(), motion_server.headers(token))
    await ws.send(audio("r", b"\0" * 9000))
    assert parse(await ws.recv()).server_error.code == E.MESSAGE_TOO_LARGE
    await ws.send(audio("r", speech_like(0.04), end=True))  # the session goes on
    assert (await recv_round(ws, "r"))[-1].server_response_animation.end
    await ws.send(audio("r2", b"\0" * 20000))  # beyond aiohttp's backstop (2x): refused at the frame level
    with pytest.raises(websockets.ConnectionClosed):
        await asyncio.wait_for(ws.recv(), 5)
    assert ws.close_code == 1009


async def test_audio_per_round_limit_stops_the_round_only(motion_server):
    token = await motion_server.token()
    ws, _ = await open_session(motion_server.ingress_url(), motion_server.headers(token))
    chunk = speech_like(0.2)
    frames, errors = 0, []
    for _ in range(6):  # 1.2 s in a round limited to 1 s
        await ws.send(audio("long", chunk))
    await ws.send(audio("long", b"", end=True))
    await ws.send(audio("next", chunk, end=True))
    while True:
        msg = parse(await asyncio.wait_for(ws.recv(), 5))
        if msg.HasField("server_error"):
            errors.append((msg.server_error.code, msg.server_error.req_id))
        elif msg.server_response_animation.req_id == "long":
            frames += len(msg.server_response_animation.animation.keyframes)
        else:
            assert msg.server_response_animation.end
            break
    assert errors == [(E.ROUND_AUDIO_LIMIT, "long")]
    assert frames == 25  # everything up to the limit was animated
    await ws.close()


async def test_idle_session_is_closed(motion_server):
    token = await motion_server.token()
    ws, _ = await open_session(motion_server.ingress_url(), motion_server.headers(token))
    msgs = await recv_until_closed(ws)
    assert [m.server_error.code for m in msgs] == [E.IDLE_TIMEOUT] and ws.close_code == 1000


async def test_configure_must_come_quickly(motion_server):
    token = await motion_server.token()
    async with websockets.connect(motion_server.ingress_url(), additional_headers=motion_server.headers(token)) as ws:
        msgs = await recv_until_closed(ws)
    assert [m.server_error.code for m in msgs] == [E.INVALID_ARGUMENT] and ws.close_code == 1008


async def keep_busy(ws) -> None:
    """Send a little audio every 200 ms until the server closes the socket."""
    try:
        while True:
            await ws.send(audio("r", speech_like(0.04)))
            await asyncio.sleep(0.2)
    except websockets.ConnectionClosed:
        pass


async def test_session_duration_limit(motion_server):
    token = await motion_server.token()
    ws, _ = await open_session(motion_server.ingress_url(), motion_server.headers(token))
    started = time.monotonic()
    busy = asyncio.create_task(keep_busy(ws))  # so the idle limit never triggers
    msgs = await recv_until_closed(ws)
    await busy
    assert [m.server_error.code for m in msgs if m.HasField("server_error")] == [E.SESSION_DURATION_EXCEEDED]
    assert ws.close_code == 1008 and time.monotonic() - started >= 1.5


async def test_concurrent_session_limit_per_app(motion_server):
    token = await motion_server.token()
    first = [await open_session(motion_server.ingress_url(), motion_server.headers(token)) for _ in range(2)]
    async with websockets.connect(motion_server.ingress_url(), additional_headers=motion_server.headers(token)) as ws:
        msgs = await recv_until_closed(ws)
    assert [m.server_error.code for m in msgs] == [E.CONCURRENT_LIMIT] and ws.close_code == 1008
    await first[0][0].close()
    for _ in range(50):  # the freed slot is usable again
        if motion_server.server.session_count(motion_server.app_id) < 2:
            break
        await asyncio.sleep(0.02)
    again, _ = await open_session(motion_server.ingress_url(), motion_server.headers(token))
    await again.close()
    await first[1][0].close()


async def test_token_expiring_mid_session_closes_with_4010(motion_server):
    token = motion_server.server.signer.issue(motion_server.app_id, int(time.time()) + 1)
    ws, _ = await open_session(motion_server.ingress_url(), motion_server.headers(token))
    busy = asyncio.create_task(keep_busy(ws))
    msgs = await recv_until_closed(ws)
    await busy
    assert [m.server_error.code for m in msgs if m.HasField("server_error")] == [E.TOKEN_EXPIRED]
    assert ws.close_code == 4010


async def test_stop_closes_sessions_with_going_away(motion_server):
    token = await motion_server.token()
    ws, _ = await open_session(motion_server.ingress_url(), motion_server.headers(token))
    await motion_server.server.stop()
    msgs = await recv_until_closed(ws)
    assert [m.server_error.code for m in msgs] == [E.UNAVAILABLE] and ws.close_code == 1001
    with pytest.raises(OSError):
        await websockets.connect(motion_server.ingress_url(), additional_headers=motion_server.headers(token),
                                 open_timeout=2)
