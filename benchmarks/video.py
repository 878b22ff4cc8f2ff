"""Server-rendered video: what one video session and one viewer cost, at 512² and 720p.

Per frame, measured in one run on the backend the device score would pick (``--backend`` to force):

- render: ``AvatarStream.next_frame`` (pose on the audio clock, prepare, draw, read back);
- compose + VP8 encode: what each viewer's sender does (aiortc's own ``Vp8Encoder``, as in the egress);

and, from those, frames rendered + encoded per second and per core, the video sessions this
machine renders at 25 fps, and the extra viewers of one session a core encodes for (a session is
rendered once for all its viewers; each viewer's stream is encoded on its own). The baseline is the
real-time budget: a 25 fps frame period.

    python -m benchmarks video [--frames 60] [--sizes 512x512,1280x720] [--backend cpu]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

import numpy as np

from .report import Report

QUICK_ARGV = ["--frames", "20"]
FPS = 25


async def _measure(width: int, height: int, frames: int, backend: str | None) -> dict:
    import av
    from aiortc.codecs.vpx import Vp8Encoder

    from engine.avatar.package import load_bundled
    from engine.demo import SPEECH_CLIP
    from engine.demo.audio import load_speech
    from engine.video import AvatarStream, Compositor

    stream = await AvatarStream.create(load_bundled("demo"), width=width, height=height, sample_rate=48000,
                                       backend=backend)
    compose = Compositor(height, width, (28, 30, 38))
    encoder = Vp8Encoder()
    pcm, _ = load_speech(SPEECH_CLIP, 48000)
    stream.push(pcm)
    stream.end_segment()
    render, encode = [], []
    try:
        await stream.next_frame()  # first frame: kernels compile, buffers are made
        for index in range(frames):
            t0 = time.perf_counter()
            step = await stream.next_frame()
            t1 = time.perf_counter()
            picture = av.VideoFrame.from_ndarray(compose.rgba(step.rgba), format="rgba")
            picture.pts = index * 3600
            encoder.encode(picture, force_keyframe=index == 0)
            t2 = time.perf_counter()
            render.append(t1 - t0)
            encode.append(t2 - t1)
        chosen = stream.view.backend
    finally:
        stream.close()
    return {"render_ms": 1e3 * float(np.median(render)), "encode_ms": 1e3 * float(np.median(encode)),
            "backend": chosen}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks video")
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--sizes", default="512x512,1280x720")
    parser.add_argument("--backend", default=None, help="render backend (default: the device score's choice)")
    args = parser.parse_args(argv)
    from engine import AvatarSDK

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    period = 1000.0 / FPS
    report = Report("video", f"Server-rendered video: one session and its viewers ({cores} cores, {FPS} fps)")
    for size in args.sizes.split(","):
        width, height = (int(v) for v in size.lower().split("x"))
        AvatarSDK.cleanup()
        m = asyncio.run(_measure(width, height, args.frames, args.backend))
        label = f"{width}x{height}"
        frame_ms = m["render_ms"] + m["encode_ms"]
        report.add(f"{label} render", f"{m['render_ms']:.1f} ms", m["render_ms"], "frame period", period,
                   unit="ms", budget=period, backend=m["backend"])
        report.add(f"{label} enc/viewer", f"{m['encode_ms']:.1f} ms", m["encode_ms"], "frame period", period,
                   unit="ms")
        fps = 1000.0 / frame_ms
        report.add(f"{label} frames/s", f"{fps:.1f}/s ({fps / cores:.1f}/core)", fps, f"{FPS} fps", FPS,
                   unit="fps", higher_is_better=True, budget=FPS)
        sessions = cores * 1000.0 / (FPS * m["render_ms"]) if m["render_ms"] else 0.0
        viewers = 1000.0 / (FPS * m["encode_ms"]) if m["encode_ms"] else 0.0
        report.note(f"{label} on {m['backend']}: about {sessions:.1f} video session(s) at {FPS} fps on this machine "
                    f"(render time × {FPS} per second, all {cores} cores), and {viewers:.0f} extra viewer(s) of one "
                    f"session per core (VP8 encode per viewer).")
    AvatarSDK.cleanup()
    report.note("Render uses every core (numba threads), so 'per core' is frames/s divided by the cores; "
                "sessions add up while cores are free. `facecast serve --video-sessions` sets the admitted limit.")
    report.emit()
    return 0
