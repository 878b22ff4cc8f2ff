"""Soak: does anything grow over a long session or over many views?

Two runs, each sampled at the end of its warm-up, in the middle and at the end (after a
``gc.collect()``): resident memory, threads, open file descriptors, live renderer objects and,
with the wgpu backend, the GPU objects wgpu reports alive.

*Session*: the embedded Motion Server on loopback and a backend-mode app in one process, in real
time — speech goes to the server in 200 ms chunks, its animation messages go to the view's
controller (``yield_frames_data``), and an offscreen view renders 25 fps on the chosen backend.
Rounds of the demo speech follow each other for ``--minutes``.

*Views*: ``--cycles`` times, an offscreen view is created, renders one frame and is disposed.

Each figure is compared with its value at the end of the warm-up (the baseline in the same run);
the budget is RSS growth ≤ 5 %, and threads and descriptors back where they were.

    python -m benchmarks soak [--minutes 30] [--cycles 1000] [--backend cpu] [--size 128]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from .report import Report

QUICK_ARGV = ["--minutes", "1", "--cycles", "60"]
RATE = 16000
CHUNK_S = 0.2
RSS_BUDGET = 1.05  # end / warm-up


def sample() -> dict[str, float]:
    """Resident memory (MB), threads, open descriptors and live renderer objects, after a collection."""
    gc.collect()
    with open("/proc/self/statm") as fh:
        rss_pages = int(fh.read().split()[1])
    renderers = sum(1 for o in gc.get_objects() if type(o).__name__.endswith("Renderer"))
    wgpu = sys.modules.get("wgpu")  # wgpu-py counts the GPU objects it has alive (devices, buffers, textures…)
    gpu_objects = wgpu.diagnostics.object_counts.get_dict()["total"]["count"] if wgpu is not None else 0
    return {"rss_mb": rss_pages * os.sysconf("SC_PAGE_SIZE") / 2**20, "threads": threading.active_count(),
            "fds": len(os.listdir("/proc/self/fd")), "renderers": renderers, "gpu_objects": gpu_objects}


async def _session(minutes: float, backend: str, size: int) -> list[tuple[str, dict[str, float]]]:
    import aiohttp
    import websockets

    from engine import AvatarSDK, Configuration
    from engine.avatar.package import load_bundled
    from engine.demo import SPEECH_CLIP
    from engine.demo.audio import load_speech
    from engine.render.containers import Offscreen
    from engine.render.view import AvatarView
    from engine.server import MotionServer
    from engine.server.provision import provision_if_empty
    from engine.wire import message_pb2 as pb

    speech = load_speech(SPEECH_CLIP, RATE)[0].astype("<i2")
    chunk = int(CHUNK_S * RATE)
    with tempfile.TemporaryDirectory(prefix="facecast-soak-") as data_dir:
        server = MotionServer(data_dir=Path(data_dir))
        setup = await provision_if_empty(server.store)
        await server.start("127.0.0.1", 0)
        try:
            async with aiohttp.ClientSession() as http:
                async with http.post(f"{server.base_url}/v1/console/session-tokens",
                                     headers={"X-Api-Key": setup.api_key},
                                     json={"expireAt": int(time.time()) + 3 * 3600}) as resp:
                    token = (await resp.json())["sessionToken"]
            await AvatarSDK.initialize(setup.app_id, Configuration(driving_service_mode="backend",
                                                                   audio_format={"sample_rate": RATE}))
            view = AvatarView(load_bundled("demo"), Offscreen(size, size), backend=backend)
            ctl = view.controller
            ctl.set_audio_sink("virtual", real_time=True)
            url = f"{server.endpoints.ingress}/websocket?id=demo"
            samples: list[tuple[str, dict[str, float]]] = []
            total = minutes * 60
            marks = [("warm-up", min(60.0, total * 0.2)), ("middle", total / 2), ("end", total)]
            async with websockets.connect(url, additional_headers={"X-App-ID": setup.app_id,
                                                                   "X-Session-Key": token}, max_size=None) as ws:
                msg = pb.Message(type=pb.MESSAGE_TYPE_CLIENT_CONFIGURE_SESSION)
                msg.client_configure_session.sample_rate = RATE
                await ws.send(msg.SerializeToString())
                await ws.recv()
                state = {"cid": None, "messages": 0, "frames": 0}

                async def relay():  # the app's server side: animation messages go to the client as received
                    async for data in ws:
                        if state["cid"] is not None:
                            ctl.yield_frames_data([data], state["cid"])
                            state["messages"] += 1

                async def render():
                    async for _ in view.frames(fps=25):
                        state["frames"] += 1

                tasks = [asyncio.create_task(relay()), asyncio.create_task(render())]
                started = time.monotonic()
                round_no, sent = 0, 0.0
                while marks:
                    round_no += 1
                    for at in range(0, speech.size, chunk):
                        piece = speech[at:at + chunk]
                        end = at + chunk >= speech.size
                        cid = ctl.yield_audio_data(piece.tobytes(), end=end)
                        if cid is not None:
                            state["cid"] = cid
                        audio = pb.Message(type=pb.MESSAGE_TYPE_CLIENT_AUDIO_INPUT)
                        audio.client_audio_input.req_id = f"round-{round_no}"
                        audio.client_audio_input.audio = piece.tobytes()
                        audio.client_audio_input.end = end
                        await ws.send(audio.SerializeToString())
                        sent += CHUNK_S
                        await asyncio.sleep(max(0.0, started + sent - time.monotonic()))  # real time, no drift
                        elapsed = time.monotonic() - started
                        while marks and elapsed >= marks[0][1]:
                            samples.append((marks.pop(0)[0], sample()))
                        if not marks:
                            break
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            view.dispose()
            AvatarSDK.cleanup()
            seconds = time.monotonic() - started
            samples.append(("activity", {"rounds": round_no, "messages": state["messages"],
                                         "fps": state["frames"] / seconds, "seconds": seconds}))
            return samples
        finally:
            await server.stop()


def _views(cycles: int, backend: str, size: int) -> list[tuple[str, dict[str, float]]]:
    from engine.avatar.package import load_bundled
    from engine.render.containers import Offscreen
    from engine.render.view import AvatarView

    avatar = load_bundled("demo")
    marks = {max(1, cycles // 10): "warm-up", cycles // 2: "middle", cycles: "end"}
    samples = []
    for i in range(1, cycles + 1):
        view = AvatarView(avatar, Offscreen(size, size), backend=backend)
        view.render_frame()
        view.dispose()
        del view  # so the sample counts only what dispose() failed to release
        if i in marks:
            samples.append((marks[i], sample()))
    return samples


def _report(report: Report, what: str, samples: list[tuple[str, dict[str, float]]]) -> None:
    activity = dict(samples).pop("activity", None)
    samples = [(label, values) for label, values in samples if label != "activity"]
    if activity is not None:
        report.note(f"{what}: {activity['seconds']:.0f} s real time, {activity['rounds']} rounds, "
                    f"{activity['messages']} animation messages relayed, {activity['fps']:.1f} fps rendered")
    base = dict(samples)["warm-up"]
    for label, values in samples:
        if label == "warm-up":
            continue
        report.add(f"{what} RSS at {label}", f"{values['rss_mb']:.0f} MB", values["rss_mb"], "warm-up",
                   base["rss_mb"], unit="MB", budget=base["rss_mb"] * RSS_BUDGET)
        for key in ("threads", "fds", "renderers", "gpu_objects"):
            report.add(f"{what} {key} at {label}", f"{values[key]:.0f}", values[key], "warm-up", base[key],
                       unit="count", budget=base[key])
    first, last = base["rss_mb"], samples[-1][1]["rss_mb"]
    report.note(f"{what}: RSS {first:.0f} MB after warm-up → {last:.0f} MB at the end "
                f"({(last / first - 1) * 100:+.1f} %; budget +{(RSS_BUDGET - 1) * 100:.0f} %)")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks soak", description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="length of the real-time session")
    parser.add_argument("--cycles", type=int, default=1000, help="view create/render/dispose cycles")
    parser.add_argument("--backend", default="cpu", help="renderer of the views (cpu, wgpu, opengl)")
    parser.add_argument("--size", type=int, default=128, help="offscreen size in pixels (square)")
    args = parser.parse_args(argv)
    report = Report("soak", f"Soak: a {args.minutes:g}-minute session and {args.cycles} views ({args.backend})")
    before = sample()
    report.note(f"process at start: {before['rss_mb']:.0f} MB, {before['threads']} threads, {before['fds']} fds")
    if args.minutes > 0:
        _report(report, "session", asyncio.run(_session(args.minutes, args.backend, args.size)))
    if args.cycles > 0:
        _report(report, "views", _views(args.cycles, args.backend, args.size))
    report.emit()
    return 0
