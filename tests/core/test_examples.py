"""The examples the README points to run as written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_backend_mode_example_plays_and_writes_a_png(tmp_path):
    out = tmp_path / "speaking.png"
    env = dict(os.environ, FACECAST_AUDIO_SINK="virtual", FACECAST_CACHE_DIR=str(tmp_path / "cache"))
    run = subprocess.run([sys.executable, str(ROOT / "examples" / "backend_mode.py"), str(out)],
                         capture_output=True, text=True, env=env, timeout=180)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert "all motion received: True" in lines
    assert lines.index("conversation: playing") < lines.index("conversation: idle")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
