"""HTTP-level attacks on the Motion Server (issue 13, items 3 and 4): half-open sockets, connection
floods, and malformed requests that used to answer 500."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from engine.server import Limits


async def _raw(port: int, send: bytes = b"") -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    if send:
        writer.write(send)
        await writer.drain()
    return reader, writer


async def _closed_by_server(reader: asyncio.StreamReader, timeout: float) -> bool:
    try:
        await asyncio.wait_for(reader.read(), timeout)  # read() returns at EOF
        return True
    except (ConnectionError, OSError):
        return True
    except TimeoutError:
        return False


@pytest.mark.parametrize("server_limits", [Limits(request_timeout_s=1.0)])
async def test_half_open_connections_are_closed(motion_server):
    port = motion_server.server.port
    partial = b"POST /v1/console/session-tokens HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: x"
    sockets = [await _raw(port) for _ in range(20)] + [await _raw(port, partial) for _ in range(20)]
    trickler = sockets[-1][1]
    for _ in range(3):  # more header bytes keep coming, slower than a whole request
        await asyncio.sleep(0.3)
        trickler.write(b"x")
    closed = await asyncio.gather(*(_closed_by_server(r, 10) for r, _ in sockets))
    for _, writer in sockets:
        writer.close()
    assert all(closed), f"{closed.count(False)} of {len(closed)} half-open sockets were kept"
    assert (await motion_server.request_token())[0] == 200  # the server itself is fine


@pytest.mark.parametrize("server_limits", [Limits(request_timeout_s=1.0)])
async def test_a_body_that_trickles_is_answered_408(motion_server):
    reader, writer = await _raw(motion_server.server.port, (
        "POST /v1/console/session-tokens HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"X-Api-Key: {motion_server.api_key}\r\nContent-Length: 100\r\n\r\n{{").encode())
    status = await asyncio.wait_for(reader.readline(), 10)
    writer.close()
    assert status.split()[1] == b"408", status


@pytest.mark.parametrize("server_limits", [Limits(max_connections=8, request_timeout_s=30.0)])
async def test_connections_over_the_cap_get_503_and_the_server_recovers(motion_server):
    port = motion_server.server.port
    idle = [await _raw(port) for _ in range(8)]
    await asyncio.sleep(0.1)  # let the server register them
    reader, writer = await _raw(port, b"GET /v1/assets/avatars/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 503") and b"tooManyConnections" in answer
    for _, w in idle:
        w.close()
    for _ in range(100):
        await asyncio.sleep(0.05)
        if len(motion_server.server._runner.server.connections) == 0:
            break
    assert (await motion_server.request_token())[0] == 200


@pytest.mark.parametrize("body", [
    b'{"expireAt": ' + b"9" * 400 + b"}",
    b'{"expireAt": -' + b"9" * 400 + b"}",
    b"[" * 30_000 + b"]" * 30_000,
    b'{"expireAt": ' + b"[" * 30_000 + b"]" * 30_000 + b"}",
    b"\xff\xfe not utf-8",
], ids=["400-digit expireAt", "negative 400-digit expireAt", "nested 30000 deep", "nested value", "not utf-8"])
async def test_malformed_console_bodies_are_400(motion_server, body):
    status, answer = await motion_server.request_token(body=body)
    assert status == 400, answer
    assert answer["errors"][0]["code"] in ("invalidArgument", "expireAtTooFar", "expireAtInPast")


@pytest.mark.parametrize("name", ["a%00b", "%00", "x" * 5000, "..%2f..%2fserver.sqlite3", "manifest.json%00.npz"])
async def test_hostile_asset_file_names_are_404(motion_server, name):
    url = f"{motion_server.base_url}/v1/assets/avatars/{motion_server.avatar_id}/files/{name}"
    async with aiohttp.ClientSession() as http:
        async with http.get(url, params={"appId": motion_server.app_id}) as resp:
            assert resp.status in (404, 400), await resp.text()  # 400: aiohttp refuses the request line itself
            if resp.status == 404:
                assert (await resp.json())["errors"][0]["code"] == "assetNotFound"


async def test_a_granted_avatar_with_a_broken_package_is_404(motion_server):
    # The fixture's test avatar is installed with a minimal manifest the package format refuses.
    url = f"{motion_server.base_url}/v1/assets/avatars/{motion_server.avatar_id}"
    async with aiohttp.ClientSession() as http:
        async with http.get(url, params={"appId": motion_server.app_id}) as resp:
            body = await resp.json()
    assert resp.status == 404 and body["errors"][0]["code"] == "avatarPackageInvalid"
    assert str(motion_server.server.data_dir) not in json.dumps(body)  # server paths stay in the server's log


async def test_deeply_nested_installed_manifest_is_an_unknown_avatar(motion_server):
    package = motion_server.server.data_dir / "avatars" / "deep"
    package.mkdir(parents=True)
    (package / "manifest.json").write_bytes(b"[" * 100_000 + b"]" * 100_000)
    assert motion_server.server.catalog.expression_count("deep") is None


@pytest.mark.slow
async def test_a_socket_flood_at_a_low_fd_limit_neither_exhausts_descriptors_nor_floods_the_log(tmp_path,
                                                                                                unused_tcp_port):
    """The issue's case: `facecast serve` under a 128-descriptor limit, 140 sockets that send nothing."""
    import resource
    import subprocess
    import sys

    def low_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (128, 128))

    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen([sys.executable, "-m", "engine", "serve", "--port", str(unused_tcp_port),
                                 "--data-dir", str(tmp_path / "data")], stdout=subprocess.PIPE, stderr=log_file,
                                preexec_fn=low_limit)
        try:
            for _ in range(100):  # the banner ends with the line that says where it listens
                line = proc.stdout.readline()
                if not line or b"listening" in line:
                    break
            flood = [await _raw(unused_tcp_port) for _ in range(140)]
            await asyncio.sleep(0.5)
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{unused_tcp_port}/healthz",
                                    timeout=aiohttp.ClientTimeout(total=10)) as resp:
                    status = resp.status  # an answer (503 while the cap is full), not a timeout
            for _, writer in flood:
                writer.close()
        finally:
            proc.terminate()
            proc.wait(10)
            proc.stdout.close()
    assert status in (200, 503)
    log = log_path.read_text(errors="replace")
    assert "Too many open files" not in log and len(log) < 10_000, log[-2000:]


async def test_malformed_requests_do_not_log_a_traceback_each(motion_server, caplog):
    import logging

    caplog.set_level(logging.DEBUG, logger="aiohttp.server")
    for line in (b"GET / HTTP/9.9", b"GET /\x00 HTTP/1.1", b"\xff\xfe garbage") * 10:
        reader, writer = await _raw(motion_server.server.port, line + b"\r\nHost: x\r\n\r\n")
        await asyncio.wait_for(reader.read(), 10)
        writer.close()
    records = [r for r in caplog.records if r.name == "aiohttp.server" and r.levelno >= logging.INFO]
    assert len(records) <= 2 and not any(r.exc_info for r in records), [r.getMessage() for r in records]
