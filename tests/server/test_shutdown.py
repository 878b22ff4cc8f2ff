"""The embedded server shuts down cleanly: no session, socket, thread or database handle left."""

from __future__ import annotations

import asyncio
import socket
import threading

from engine.server import MotionServer

from .raw_client import audio, open_session, speech_like


async def test_stop_leaves_nothing_behind(tmp_path):
    from tests.fixtures.server import install_test_avatar

    threads_before = set(threading.enumerate())
    tasks_before = asyncio.all_tasks()
    install_test_avatar(tmp_path)
    server = MotionServer(data_dir=tmp_path)
    await server.start()
    app_id = await server.store.create_app("t", "t-app")
    await server.store.grant(app_id, "test-head")
    token = server.signer.issue(app_id, int(__import__("time").time()) + 60)
    port = server.port
    clients = [await open_session(f"{server.endpoints.ingress}/websocket?id=test-head",
                                  {"X-App-ID": app_id, "X-Session-Key": token}) for _ in range(3)]
    await clients[0][0].send(audio("r", speech_like(0.2)))  # one session mid-round
    await asyncio.sleep(0.05)
    await server.stop()
    await server.stop()  # idempotent
    for ws, _ in clients:
        await ws.wait_closed()
        assert ws.close_code == 1001
    assert server.session_count() == 0
    assert server.store.closed  # the SQLite connection is closed
    with socket.socket() as probe:  # nothing listens on the port any more
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    await asyncio.sleep(0)
    assert set(threading.enumerate()) <= threads_before
    assert {t for t in asyncio.all_tasks() - tasks_before if not t.done()} <= {asyncio.current_task()}
