"""Three ``facecast serve`` processes on one PostgreSQL and one Redis, behind HAProxy, all on loopback.

Each test makes its own app (the per-app limit is 4 in this cluster), so the tests share the
processes but not their state. The cluster is started once for the module (~5 s).
"""

from __future__ import annotations

import asyncio
import re
import time

import aiohttp
import pytest
import websockets

from engine import AudioFormat, ConnectionState, Endpoints
from engine.contracts import TransportContext
from engine.plugins import get_plugin_manager
from engine.server.codes import ServerErrorCode as E
from engine.server.store import Quota, StoreUnavailable, open_store
from tests.fixtures.server import TEST_AVATAR_ID, TEST_EXPRESSIONS, install_test_avatar
from tests.server.raw_client import T, audio, configure, parse, speech_like
from tests.server.test_transport_direct import RecordingListener

from .services import HAProxy, ServeProcess, have

pytestmark = pytest.mark.slow

LIMIT = 4
KEY_RATE = 5.0  # console requests per second per key (burst 10), shared through Redis


class Cluster:
    def __init__(self, postgres, redis_server, data_dir) -> None:
        self.postgres = postgres
        self.dsn = postgres.create_database("cluster")
        self.redis = redis_server.url
        self.data_dir = data_dir
        # The procedural generator: these tests are about the processes, and it is the cheapest to run.
        self.args = ("--generator", "procedural",
                     "--max-sessions-per-app", str(LIMIT), "--lease-ttl", "2", "--trusted-proxy", "127.0.0.1",
                     "--key-rate", str(KEY_RATE), "--address-rate", "1000", "--drain-timeout", "10")
        # Started together: migrations and first-start provisioning take turns under advisory locks.
        self.procs = [ServeProcess(data_dir, self.dsn, self.redis, *self.args, wait=False) for _ in range(3)]
        for p in self.procs:
            p.wait_started()
        self.balancer = HAProxy([p.port for p in self.procs])
        self.base_url = self.balancer.base_url

    def stop(self) -> None:
        self.balancer.stop()
        for p in self.procs:
            p.stop()

    async def new_app(self, quota: Quota | None = None) -> tuple[str, str, str]:
        """A fresh app with a key and a grant for the test avatar: (app_id, key_id, key)."""
        store = open_store(self.dsn)
        await store.open()
        try:
            app_id = await store.create_app("cluster-test")
            key_id, key = await store.create_key(app_id)
            await store.grant(app_id, TEST_AVATAR_ID)
            if quota is not None:
                await store.set_quota(app_id, quota)
        finally:
            await store.close()
        return app_id, key_id, key

    async def token(self, key: str, base_url: str | None = None, ttl_s: float = 600) -> str:
        status, body, _ = await post(f"{base_url or self.base_url}/v1/console/session-tokens", key,
                                     {"expireAt": int(time.time() + ttl_s)})
        assert status == 200, body
        return body["sessionToken"]



async def post(url: str, key: str, body: dict) -> tuple[int, dict, dict]:
    async with aiohttp.ClientSession() as http:
        async with http.post(url, headers={"X-Api-Key": key}, json=body) as resp:
            return resp.status, await resp.json(), dict(resp.headers)


async def active_sessions(base_url: str) -> float | None:
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base_url}/metrics") as resp:
                text = await resp.text()
    except aiohttp.ClientError:
        return None
    return float(re.search(r"^facecast_active_sessions (\S+)$", text, re.M).group(1))


def ingress(base_url: str) -> str:
    return base_url.replace("http://", "ws://") + f"/v2/driveningress/websocket?id={TEST_AVATAR_ID}"


async def connect(base_url: str, app_id: str, token: str):
    """Open and configure a session; returns (socket, first reply)."""
    ws = await websockets.connect(ingress(base_url), additional_headers={"X-App-ID": app_id, "X-Session-Key": token},
                                  max_size=None)
    await ws.send(configure())
    return ws, parse(await asyncio.wait_for(ws.recv(), 60))  # a fresh process loads its first generator


async def admitted(base_url: str, app_id: str, token: str):
    ws, reply = await connect(base_url, app_id, token)
    assert reply.type == T.MESSAGE_TYPE_SERVER_CONFIRM_SESSION, reply
    return ws


async def refused_with(base_url: str, app_id: str, token: str) -> int:
    ws, reply = await connect(base_url, app_id, token)
    await ws.close()
    assert reply.type == T.MESSAGE_TYPE_SERVER_ERROR, reply
    return reply.server_error.code


async def read_all(ws) -> None:
    """Read (and drop) animation messages until the round ends, as a client does; an unread socket
    stops taking the server's frames, its close handshake included."""
    while True:
        msg = parse(await asyncio.wait_for(ws.recv(), 20))
        if msg.type == T.MESSAGE_TYPE_SERVER_RESPONSE_ANIMATION and msg.server_response_animation.end:
            return


async def error_then_close(ws, timeout_s: float = 10) -> tuple[int, float]:
    """Read until a SERVER_ERROR arrives; its code and when it arrived (monotonic)."""
    while True:
        msg = parse(await asyncio.wait_for(ws.recv(), timeout_s))
        if msg.type == T.MESSAGE_TYPE_SERVER_ERROR:
            return msg.server_error.code, time.monotonic()


async def send_paced_round(transport, req_id: str, seconds: float) -> None:
    """One round in 40 ms chunks at real-time pace, as a microphone would send it."""
    pcm = speech_like(seconds)
    t0 = time.monotonic()
    for k, i in enumerate(range(0, len(pcm), 1280)):
        await asyncio.sleep(max(0.0, t0 + k * 0.04 - time.monotonic()))
        await transport.send_audio(req_id, pcm[i:i + 1280], i + 1280 >= len(pcm))


@pytest.fixture(scope="module")
def cluster(postgres, redis_server, tmp_path_factory):
    if not have("haproxy"):
        pytest.skip("haproxy not installed (apt-get install haproxy)")
    data_dir = tmp_path_factory.mktemp("cluster")
    install_test_avatar(data_dir)
    c = Cluster(postgres, redis_server, data_dir)
    try:
        yield c
    finally:
        c.stop()


async def test_sessions_spread_across_processes_and_the_limit_holds_across_them(cluster):
    app_id, _, key = await cluster.new_app()
    token = await cluster.token(key)
    sockets = [await admitted(cluster.base_url, app_id, token) for _ in range(LIMIT)]
    try:
        counts = [await active_sessions(p.base_url) for p in cluster.procs]
        assert sum(counts) == LIMIT and sum(1 for c in counts if c) >= 2, counts  # round robin spreads them
        # The fifth session of the app is refused wherever it lands, and by every process.
        for p in cluster.procs:
            assert await refused_with(p.base_url, app_id, token) == E.CONCURRENT_LIMIT
        await sockets.pop().close()
        await asyncio.sleep(0.3)
        sockets.append(await admitted(cluster.procs[0].base_url, app_id, token))  # a freed lease is reusable
    finally:
        for ws in sockets:
            await ws.close()


async def test_a_key_revoked_through_one_process_is_refused_by_the_others(cluster):
    app_id, key_id, key = await cluster.new_app()
    _, second_key = (await _second_key(cluster, app_id))
    p0, p1, p2 = (p.base_url for p in cluster.procs)
    token = await cluster.token(key, p0)
    live = await admitted(p1, app_id, token)
    status, body, _ = await post(f"{p2}/v1/console/revocations", second_key, {"keyId": key_id})
    assert (status, body) == (200, {"revoked": key_id})
    revoked_at = time.monotonic()
    code, when = await error_then_close(live)  # the live session on another process ends...
    assert code == E.UNAUTHENTICATED and when - revoked_at < 1.0, when - revoked_at
    await live.close()
    assert await refused_with(p0, app_id, token) == E.UNAUTHENTICATED  # ...its token opens nothing new...
    status, body, _ = await post(f"{p1}/v1/console/session-tokens", key, {"expireAt": int(time.time()) + 60})
    assert (status, body["errors"][0]["code"]) == (401, "apiKeyInvalid")  # ...and the key mints nothing
    # One token alone can be revoked too, leaving the key's other tokens valid.
    doomed, kept = await cluster.token(second_key, p0), await cluster.token(second_key, p0)
    status, _, _ = await post(f"{p1}/v1/console/revocations", second_key, {"sessionToken": doomed})
    assert status == 200
    assert await refused_with(p2, app_id, doomed) == E.UNAUTHENTICATED
    await (await admitted(p2, app_id, kept)).close()


async def _second_key(cluster, app_id):
    store = open_store(cluster.dsn)
    await store.open()
    try:
        return await store.create_key(app_id)
    finally:
        await store.close()


async def test_console_rate_limit_is_shared_by_the_processes(cluster):
    _, _, key = await cluster.new_app()
    async with aiohttp.ClientSession() as http:
        async def one() -> tuple[int, str | None]:
            async with http.post(f"{cluster.base_url}/v1/console/session-tokens", headers={"X-Api-Key": key},
                                 json={"expireAt": int(time.time()) + 60}) as resp:
                return resp.status, resp.headers.get("Retry-After")
        started = time.monotonic()
        results = await asyncio.gather(*(one() for _ in range(30)))  # round robin: a third to each process
        elapsed = time.monotonic() - started
    statuses = [status for status, _ in results]
    # One bucket for the whole service: a burst of 10 plus what refilled meanwhile. Three per-process
    # buckets would have let all 30 through.
    assert statuses.count(200) <= 2 * KEY_RATE + KEY_RATE * elapsed + 1, (statuses, elapsed)
    assert set(statuses) == {200, 429} and {after for status, after in results if status == 429} == {"1"}


async def test_quotas_refuse_and_end_sessions_with_insufficient_balance(cluster):
    app_id, _, key = await cluster.new_app(Quota(audio_seconds=1.0, sessions=2))
    token = await cluster.token(key)
    ws = await admitted(cluster.base_url, app_id, token)
    pcm = speech_like(2.0)
    for i in range(0, len(pcm), 1280):  # 40 ms chunks; the balance runs out after 1 s
        try:
            await ws.send(audio("r1", pcm[i:i + 1280], i + 1280 >= len(pcm)))
        except websockets.ConnectionClosed:
            break
    code, _ = await error_then_close(ws)
    assert code == E.INSUFFICIENT_BALANCE
    await ws.close()
    # The ended session's process writes its metered audio as the session closes (well within 1 s)...
    store = open_store(cluster.dsn)
    await store.open()
    try:
        deadline = time.monotonic() + 1.0
        while (await store.usage(app_id)).audio_seconds < 1.0:
            assert time.monotonic() < deadline, await store.usage(app_id)
            await asyncio.sleep(0.05)
    finally:
        await store.close()
    # ...so with the audio used up, the next session is refused before it starts, by any process.
    for p in cluster.procs:
        assert await refused_with(p.base_url, app_id, token) == E.INSUFFICIENT_BALANCE

    counted, _, counted_key = await cluster.new_app(Quota(sessions=2))
    token = await cluster.token(counted_key)
    sockets = [await admitted(p.base_url, counted, token) for p in cluster.procs[:2]]
    assert await refused_with(cluster.procs[2].base_url, counted, token) == E.INSUFFICIENT_BALANCE
    for s in sockets:
        await s.close()


async def test_postgres_restarted_under_load_loses_no_key_or_usage(cluster):
    app_id, _, key = await cluster.new_app()
    token = await cluster.token(key)
    sockets = [await admitted(p.base_url, app_id, token) for p in cluster.procs]
    keys_made, refusals, unavailable = [], [], []
    seconds = 3.0
    pcm = speech_like(seconds)

    async def stream(ws) -> None:
        reader = asyncio.create_task(read_all(ws))
        for i in range(0, len(pcm), 1280):
            await ws.send(audio("r1", pcm[i:i + 1280], i + 1280 >= len(pcm)))
            await asyncio.sleep(0.04)
        await reader

    async def tokens() -> None:
        for _ in range(20):
            status, _, _ = await post(f"{cluster.base_url}/v1/console/session-tokens", key,
                                      {"expireAt": int(time.time()) + 60})
            refusals.append(status)
            await asyncio.sleep(0.1)

    async def keys() -> None:
        store = open_store(cluster.dsn)
        await store.open()
        try:
            while len(keys_made) < 12:
                try:
                    keys_made.append(await store.create_key(app_id))
                except StoreUnavailable:
                    unavailable.append(time.monotonic())  # told, not lost: the caller tries again
                await asyncio.sleep(0.2)
        finally:
            await store.close()

    load = asyncio.gather(*(stream(ws) for ws in sockets), tokens(), keys())
    await asyncio.sleep(0.8)
    await asyncio.to_thread(cluster.postgres.restart)
    await load
    for ws in sockets:
        await ws.close()
    await asyncio.sleep(1.5)  # the processes flush what they metered during the outage
    store = open_store(cluster.dsn)
    await store.open()
    try:
        for key_id, made in keys_made:
            assert (await store.authenticate_key(made)).key_id == key_id
        usage = await store.usage(app_id)
    finally:
        await store.close()
    assert len(keys_made) == 12
    assert usage.sessions == 3 and usage.audio_seconds >= 3 * seconds - 0.01, usage
    assert set(refusals) <= {200, 503} and refusals[-1] == 200, refusals


async def test_a_killed_process_frees_its_leases_and_its_client_reconnects_through_the_balancer(cluster):
    app_id, _, key = await cluster.new_app()
    token = await cluster.token(key)
    listener = RecordingListener(TEST_EXPRESSIONS)
    ctx = TransportContext(app_id=app_id, avatar_id=TEST_AVATAR_ID, audio_format=AudioFormat(sample_rate=16000),
                           endpoints=Endpoints.for_base(cluster.base_url), session_token=token, listener=listener)
    transport = get_plugin_manager().get("transports", "direct").factory(ctx)
    await transport.connect()
    try:
        counts = [await active_sessions(p.base_url) for p in cluster.procs]
        victim = counts.index(1.0)
        raw = [await admitted(cluster.procs[victim].base_url, app_id, token) for _ in range(LIMIT - 2)]
        round_ = asyncio.create_task(send_paced_round(transport, "r1", 2.0))
        await listener.wait_for(lambda: len(listener.frames.get("r1", ())) >= 5)
        killed_at = time.monotonic()
        cluster.procs[victim].kill()
        for ws in raw:  # the raw clients see the connection drop without a close frame
            with pytest.raises(websockets.ConnectionClosed):
                while True:
                    await asyncio.wait_for(ws.recv(), 5)
            assert ws.close_code == 1006
        await round_
        # The SDK's transport reconnected through the balancer to a live process and finished the round.
        await listener.wait_for(lambda: "r1" in listener.ends, timeout=15)
        assert listener.states[:2] == [ConnectionState.connecting, ConnectionState.connected]
        assert listener.states[2:] == [ConnectionState.connecting, ConnectionState.connected], listener.states
        assert listener.frames["r1"] == set(range(50))
        # The app holds 4 leases now (3 of the dead process, 1 of the reconnected transport): full,
        # until the dead process's leases lapse within their 2 s TTL.
        while True:
            ws, reply = await connect(cluster.base_url, app_id, token)
            if reply.type == T.MESSAGE_TYPE_SERVER_CONFIRM_SESSION:
                break
            assert reply.server_error.code == E.CONCURRENT_LIMIT and time.monotonic() - killed_at < 4.0
            await ws.close()
            await asyncio.sleep(0.2)
        await ws.close()
    finally:
        await transport.close()  # the cluster is not restarted: this is the module's last test
