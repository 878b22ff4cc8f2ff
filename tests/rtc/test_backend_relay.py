"""examples/backend_relay.py against the embedded Motion Server (the server ``facecast serve`` runs; the
server-kill test runs it as that process): a Backend Mode client and an RTC client of the same backend
both play the speech with motion."""

from __future__ import annotations

import importlib.util
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "backend_relay.py"


def _example():
    spec = importlib.util.spec_from_file_location("backend_relay", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_the_backend_relay_example_serves_both_paths(motion_server, warm_generator):
    result = await _example().run(motion_server.base_url, motion_server.app_id, motion_server.api_key, seconds=1.0)
    # Backend Mode: the animation messages (one per 100 ms chunk once the generator has its look-ahead)
    # reached the client, and the second of speech was heard whole.
    assert result["backend_mode"]["messages"] >= 8
    assert abs(result["backend_mode"]["heard_s"] - 1.0) < 0.02
    # RTC path: 25 keyframes for the second of speech, all of it heard.
    assert result["rtc"]["keyframes"] >= 24
    assert abs(result["rtc"]["heard_s"] - 1.0) < 0.04
