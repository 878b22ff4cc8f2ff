"""``facecast apps set-quota / usage`` and ``--store`` as a user runs them; ``facecast serve`` recovering a
store an interrupted first start left half-provisioned."""

from __future__ import annotations

import asyncio
import re
import time

import pytest

from engine.cli import main
from engine.server.store import Quota, Usage, open_store

from .services import ServeProcess


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_quota_and_usage_commands(backend, tmp_path, capsys, request):
    where = ["--data-dir", str(tmp_path)] if backend == "sqlite" else ["--store", request.getfixturevalue("pg_dsn")]
    assert main(["apps", *where, "create", "kiosk", "--id", "kiosk-1"]) == 0
    capsys.readouterr()
    assert main(["apps", *where, "set-quota", "kiosk-1", "--audio-seconds", "90", "--sessions", "10"]) == 0
    assert capsys.readouterr().out.strip() == "kiosk-1: audio 90 s, sessions 10"

    async def meter() -> tuple[Quota, Usage]:
        store = open_store(where[1] if backend != "sqlite" else None, tmp_path)
        await store.open()
        try:
            await store.add_usage("kiosk-1", sessions=3, audio_seconds=12.25)
            return await store.quota("kiosk-1"), await store.usage("kiosk-1")
        finally:
            await store.close()
    assert asyncio.run(meter()) == (Quota(90.0, 10), Usage("kiosk-1", 3, 12.25))
    assert main(["apps", *where, "usage"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0].split("\t") == ["app", "sessions", "session quota", "audio s", "audio quota"]
    assert rows[1].split("\t") == ["kiosk-1", "3", "10", "12.2", "90 s"]
    assert main(["apps", *where, "set-quota", "kiosk-1"]) == 0  # no limits given: unlimited again
    assert "audio unlimited, sessions unlimited" in capsys.readouterr().out
    assert main(["apps", *where, "usage", "nope"]) == 1
    assert "no app with ID 'nope'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["apps", *where, "set-quota", "kiosk-1", "--sessions", "-1"])
    assert "must be >= 0" in capsys.readouterr().err


def test_an_unreachable_store_is_one_clear_line(capsys):
    from .services import free_port

    assert main(["apps", "--store", f"postgresql://x@127.0.0.1:{free_port()}/db", "list"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("facecast apps: cannot reach PostgreSQL") and "Traceback" not in err


def test_serve_completes_a_half_provisioned_store_and_prints_the_new_key(tmp_path):
    async def interrupted_first_start() -> str:
        store = open_store(None, tmp_path)  # what an older version left when killed after its first commit
        await store.open()
        try:
            return await store.create_app("local")
        finally:
            await store.close()
    app_id = asyncio.run(interrupted_first_start())
    proc = ServeProcess(tmp_path, None, None)
    try:
        proc.wait_started()
        deadline = time.monotonic() + 20
        while "curl" not in proc.output() and time.monotonic() < deadline:
            time.sleep(0.05)
        out = proc.output()
    finally:
        proc.stop()
    assert "Completed the local app an interrupted first start left without a key" in out
    assert re.search(rf"App ID:\s+{app_id}\b", out) and re.search(r"API key: fck_\w+", out)
