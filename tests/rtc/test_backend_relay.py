"""examples/backend_relay.py against ``facecast serve`` in its own process: a Backend Mode client and an
RTC client of the same backend both play the speech with motion."""

from __future__ import annotations

import importlib.util
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "backend_relay.py"


def _example():
    spec = importlib.util.spec_from_file_location("backend_relay", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_the_backend_relay_example_serves_both_paths(server_process, warm_generator):
    result = await _example().run(server_process.base_url, server_process.app_id, server_process.api_key,
                                  seconds=1.0)
    # Backend Mode: the animation messages (one per 100 ms chunk once the generator has its look-ahead)
    # reached the client, and the second of speech was heard whole.
    assert result["backend_mode"]["messages"] >= 8
    assert abs(result["backend_mode"]["heard_s"] - 1.0) < 0.02
    # RTC path: 25 keyframes for the second of speech, all of it heard.
    assert result["rtc"]["keyframes"] >= 24
    assert abs(result["rtc"]["heard_s"] - 1.0) < 0.04
