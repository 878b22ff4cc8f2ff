"""The browser page in a real headless Chromium (Debian's chromium + chromium-driver, driven by selenium).

The check runs in a private network namespace (see page_check.py): the browser, the server and the
media never touch any interface of this machine but that namespace's own.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _namespace_available() -> str | None:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "unshare/ip (util-linux, iproute2) are not installed"
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True)
    return None if probe.returncode == 0 else f"cannot make a network namespace: {probe.stderr.strip()}"


@pytest.mark.slow
def test_the_page_shows_the_server_rendered_avatar_speaking_in_chromium(tmp_path):
    missing = [p for p in ("/usr/bin/chromium", "/usr/bin/chromedriver") if not os.path.exists(p)]
    assert not missing, f"install chromium and chromium-driver (scripts/system-packages.txt): {missing}"
    reason = _namespace_available()
    if reason:
        pytest.skip(reason)
    out = tmp_path / "page.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(["unshare", "-n", sys.executable, "-m", "tests.browser.page_check", str(out)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert out.exists(), run.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["ok"], report.get("error")
    stats = report["stats"]
    assert stats["errors"] == []
    assert stats["framesDecoded"] >= 10 and stats["videoFramesDecoded"] >= 10  # decoded in the page
    assert stats["audioPackets"] > 50 and stats["audioEnergy"] > 0  # audio arrived, and not silence
    states = stats["states"]
    assert states[0] == "connection:connecting"
    playing = states.index("conversation:playing")  # the data channel and the ICE state race: either first
    assert {"connection:connected", "conversation:idle"} <= set(states[1:playing])
    assert states[-1] == "conversation:idle" and "connection:failed" not in states
    assert report["snapshot_psnr_db"] >= 25.0  # the page shows the engine's render, after VP8
