"""``facecast serve`` / ``apps`` / ``keys`` as a user runs them."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import aiohttp

from engine.cli import main


async def test_fresh_serve_provisions_an_app_and_stops_cleanly_on_sigint(tmp_path):
    env = {**os.environ, "FACECAST_DATA_DIR": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "engine", "serve", "--port", "0"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        while not any("curl" in line for line in lines):
            line = proc.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
        out = "".join(lines)
        base = re.search(r"listening on (http://127\.0\.0\.1:\d+)", out).group(1)
        key = re.search(r"API key: (\S+)", out).group(1)
        assert re.search(r"App ID:\s+app_\w+", out)
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{base}/v1/console/session-tokens", headers={"X-Api-Key": key},
                                 json={"expireAt": int(time.time()) + 60}) as resp:
                assert resp.status == 200 and (await resp.json())["sessionToken"].startswith("fct1.")
        proc.send_signal(signal.SIGINT)
        rest = proc.communicate(timeout=20)[0]
        assert proc.returncode == 0 and "stopped" in rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # The key is stored hashed: it appears nowhere in the data directory.
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert key.encode() not in path.read_bytes()


def test_apps_and_keys_commands(tmp_path, capsys):
    data = ["--data-dir", str(tmp_path)]
    assert main(["apps", *data, "create", "kiosk", "--id", "kiosk-1"]) == 0
    out = capsys.readouterr().out
    assert "kiosk-1" in out and re.search(r"API key: fck_\w+", out)
    assert main(["apps", *data, "create", "again", "--id", "kiosk-1"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert main(["keys", *data, "create", "kiosk-1"]) == 0
    created_key = re.search(r"API key: (\S+)", capsys.readouterr().out).group(1)
    assert main(["keys", *data, "list", "kiosk-1"]) == 0
    listing = capsys.readouterr().out
    key_ids = re.findall(r"^([0-9a-f]{12})\tkiosk-1", listing, re.M)
    assert len(key_ids) == 2 and created_key not in listing
    assert main(["keys", *data, "revoke", key_ids[0]]) == 0
    assert main(["keys", *data, "revoke", key_ids[0]]) == 1
    assert main(["keys", *data, "create", "no-such-app"]) == 1
    assert main(["apps", *data, "list"]) == 0
    assert "kiosk-1\tkiosk\tavatars: demo" in capsys.readouterr().out
