"""Subprocess side of ``device_score``: probe and time one backend, print one JSON line.

Run as ``python -m engine.render.device_probe NAME``; a crash or hang here costs only this
process (the parent enforces a timeout).
"""

from __future__ import annotations

import json
import statistics
import sys
import time


def measure(name: str, seconds: float = 1.5, max_frames: int = 40) -> dict:
    from ..plugins import get_plugin_manager
    from .workload import make_frame_source

    registration = get_plugin_manager().get("renderers", name)
    probe = registration.probe()
    result = {"name": name, "available": bool(probe.available), "gpu": bool(probe.gpu), "reason": probe.reason,
              "ms_per_frame": None}
    if not probe.available:
        return result
    source, description = make_frame_source("demo")
    frame = source()
    renderer = registration.factory()
    renderer.open(frame.width, frame.height)
    try:
        for _ in range(3):  # compile / warm caches and pipelines
            renderer.draw(source())
            renderer.read_rgba()
        samples = []
        start = time.perf_counter()
        while len(samples) < max_frames and (time.perf_counter() - start < seconds or len(samples) < 5):
            t0 = time.perf_counter()
            renderer.draw(source())
            renderer.read_rgba()  # waits for the GPU, and offscreen views need the pixels anyway
            samples.append((time.perf_counter() - t0) * 1e3)
    finally:
        renderer.close()
    result["ms_per_frame"] = statistics.median(samples)
    result["reason"] = f"{probe.reason}; {description}, {len(samples)} frames"
    return result


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    print(json.dumps(measure(argv[0])), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
