"""One process's own endpoints and its graceful drain: /healthz, /readyz, /metrics, SIGTERM."""

from __future__ import annotations

import asyncio
import re
import time

import aiohttp
import pytest
import websockets

from engine.server.codes import ServerErrorCode as E
from tests.fixtures.server import TEST_AVATAR_ID, install_test_avatar, provision_app
from tests.server.raw_client import T, audio, configure, open_session, parse, recv_round, speech_like

from .services import ServeProcess


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as resp:
            return resp.status, await resp.text()


def metric(text: str, name: str, labels: str = "") -> float:
    m = re.search(rf"^{re.escape(name)}{re.escape(labels)} (\S+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


async def test_health_readiness_and_metrics(motion_server):
    base = motion_server.base_url
    assert await get(f"{base}/healthz") == (200, '{"status": "ok"}')
    status, body = await get(f"{base}/readyz")
    assert status == 200 and '"ready"' in body
    token = await motion_server.token()
    ws, _ = await open_session(motion_server.ingress_url(), motion_server.headers(token))
    await ws.send(audio("r1", speech_like(0.4), end=True))
    await recv_round(ws, "r1")
    second, _ = await open_session(motion_server.ingress_url(), motion_server.headers(token))
    status, text = await get(f"{base}/metrics")
    assert status == 200
    assert metric(text, "facecast_active_sessions") == 2 and metric(text, "facecast_sessions_opened_total") == 2
    assert metric(text, "facecast_rounds_total") == 1 and metric(text, "facecast_keyframes_total") == 10
    assert metric(text, "facecast_audio_seconds_total") == pytest.approx(0.4)
    assert metric(text, "facecast_keyframe_latency_seconds_count") >= 1
    assert metric(text, "facecast_console_requests_total", '{status="200"}') == 1
    await ws.send(b"\x00garbage")  # an invalid message is answered with SERVER_ERROR 3, counted by code
    assert parse(await ws.recv()).server_error.code == E.INVALID_ARGUMENT
    _, text = await get(f"{base}/metrics")
    assert metric(text, "facecast_errors_total", '{code="3"}') == 1
    for sock in (ws, second):
        await sock.close()
    await asyncio.sleep(0.05)
    _, text = await get(f"{base}/metrics")
    assert metric(text, "facecast_active_sessions") == 0


async def test_readyz_fails_when_the_store_is_gone_and_while_draining(motion_server):
    server = motion_server.server
    await server.store.close()
    status, body = await get(f"{motion_server.base_url}/readyz")
    assert status == 503 and "unavailable" in body
    await server.store.open()
    server.draining = True
    status, body = await get(f"{motion_server.base_url}/readyz")
    assert status == 503 and "draining" in body
    server.draining = False


async def first_session(url: str, headers: dict):
    """Open a session on a process that just started: its first motion generator may take a while to load."""
    ws = await websockets.connect(url, additional_headers=headers, max_size=None)
    await ws.send(configure())
    assert parse(await asyncio.wait_for(ws.recv(), 60)).type == T.MESSAGE_TYPE_SERVER_CONFIRM_SESSION
    return ws


async def test_sigterm_drains_finishing_the_round_in_progress(tmp_path):
    data = tmp_path / "data"
    install_test_avatar(data)
    app_id, key = await provision_app(data, "drain-app", [TEST_AVATAR_ID])
    proc = await asyncio.to_thread(ServeProcess, data, None, None, "--drain-timeout", "20", "--generator", "procedural")
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{proc.base_url}/v1/console/session-tokens", headers={"X-Api-Key": key},
                                 json={"expireAt": int(time.time()) + 60}) as resp:
                token = (await resp.json())["sessionToken"]
        url = f"{proc.base_url.replace('http', 'ws')}/v2/driveningress/websocket?id={TEST_AVATAR_ID}"
        headers = {"X-App-ID": app_id, "X-Session-Key": token}
        busy, idle = await first_session(url, headers), await first_session(url, headers)
        pcm = speech_like(1.2)
        await busy.send(audio("r1", pcm[:6400]))  # the round is under way...
        await asyncio.sleep(0.2)
        proc.proc.send_signal(15)
        # ...an idle session is told to go elsewhere at once, and nobody new gets in...
        error = parse(await asyncio.wait_for(idle.recv(), 5))
        assert error.server_error.code == E.UNAVAILABLE
        with pytest.raises(websockets.ConnectionClosed):
            await idle.recv()
        assert idle.close_code == 1001
        with pytest.raises(OSError):
            await open_session(url, headers)
        # ...while the round in progress still gets all its keyframes, then the session closes.
        await busy.send(audio("r1", pcm[6400:], end=True))
        frames = [m for m in await recv_round(busy, "r1") if m.type == T.MESSAGE_TYPE_SERVER_RESPONSE_ANIMATION]
        assert sum(len(m.server_response_animation.animation.keyframes) for m in frames) == 30
        assert parse(await busy.recv()).server_error.code == E.UNAVAILABLE
        with pytest.raises(websockets.ConnectionClosed):
            await busy.recv()
        assert busy.close_code == 1001
        out = await asyncio.to_thread(proc.terminate, 20)
        assert proc.proc.returncode == 0 and "Draining" in out and "stopped" in out
    finally:
        proc.stop()


async def test_a_key_revoked_from_another_process_ends_live_sessions_on_the_sqlite_store(motion_server):
    from engine.server.store import open_store

    token = await motion_server.token()
    ws, _ = await open_session(motion_server.ingress_url(), motion_server.headers(token))
    cli = open_store(None, motion_server.server.data_dir)  # what `facecast keys revoke` opens
    await cli.open()
    try:
        [key] = await cli.list_keys(motion_server.app_id)
        assert await cli.revoke_key(key.key_id)
    finally:
        await cli.close()
    revoked_at = time.monotonic()
    error = parse(await asyncio.wait_for(ws.recv(), 5))
    assert error.server_error.code == E.UNAUTHENTICATED and time.monotonic() - revoked_at < 1.0
    with pytest.raises(websockets.ConnectionClosed):
        await ws.recv()
    assert ws.close_code == 1008
    refused = await websockets.connect(motion_server.ingress_url(), additional_headers=motion_server.headers(token))
    assert parse(await refused.recv()).server_error.code == E.UNAUTHENTICATED  # its token opens nothing new
    await refused.close()
