"""End to end on loopback: audio chunk → first keyframe latency, real-time sessions per server core, and a cluster.

The Motion Server runs in its own process (``facecast serve``) pinned to one CPU; the clients run
in this process on the other CPU(s). Each client streams 40 ms PCM16 chunks at real-time pace
and timestamps every chunk; the latency of keyframe i is the time from sending the chunk that
completes its window to having the keyframe decoded (``benchmarks/e2e_load.py``). Every level
asked for is run and reported; failed sessions appear in its row, never as a traceback.
``--cluster`` adds the same load through HAProxy to 1 and 2 processes sharing PostgreSQL and
Redis, and console token requests per second (``benchmarks/e2e_cluster.py``).

    python -m benchmarks e2e [--seconds 10] [--sessions 25,50,75,100,150] [--cluster]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .e2e_load import BUDGET_MS, CHUNK, RATE, load_sessions, report_level, send_in_real_time, speech as _speech
from .e2e_rtc import run_rtc
from .report import Report

WARMUP_TRIES = 3
PRIORITY = -10  # nice value for the server and the load generator (root only; ignored otherwise)
FAST_CONSOLE = ("--key-rate", "1000000", "--address-rate", "1000000")  # measure the server, not its rate limits


def default_generator() -> str:
    """The motion generator ``facecast serve`` uses when none is named."""
    import inspect

    from engine.server import MotionServer

    return inspect.signature(MotionServer).parameters["motion_generator"].default


def _raise_priority() -> None:
    """Measure a dedicated core, not the neighbours: run ahead of ordinary processes when allowed."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, PRIORITY)
    except (PermissionError, OSError):
        pass


async def provision(store_url: str | None, data_dir: Path) -> tuple[str, str]:
    """The benchmark's app (``bench``, demo avatar granted, no session limit to speak of): (app_id, key)."""
    from engine.server.store import open_store

    store = open_store(store_url, data_dir)
    await store.open()
    try:
        app_id = await store.create_app("bench", "bench")
        _, key = await store.create_key(app_id)
        await store.grant(app_id, "demo")
    finally:
        await store.close()
    return app_id, key


async def request_token(base_url: str, key: str) -> str:
    import aiohttp

    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base_url}/v1/console/session-tokens", headers={"X-Api-Key": key},
                             json={"expireAt": int(time.time()) + 3600}) as resp:
            body = await resp.json()
            if resp.status != 200:
                raise RuntimeError(f"the server refused a token: {body}")
            return body["sessionToken"]


class ServerProcess:
    """``facecast serve`` on a free port in a fresh data dir, pinned to CPU ``cpu``."""

    def __init__(self, cpu: int | None, generator: str) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="facecast-bench-")
        self.cpu = cpu
        self.generator = generator
        self.proc = None

    async def __aenter__(self) -> "ServerProcess":
        from tests.scaleout.services import ServeProcess

        data = Path(self.tmp.name)
        self.app_id, self.key = await provision(None, data)
        self.proc = await asyncio.to_thread(ServeProcess, data, None, None, "--max-sessions-per-app", "10000",
                                            "--generator", self.generator, *FAST_CONSOLE, cpu=self.cpu,
                                            nice=PRIORITY)
        self.base_url = self.proc.base_url
        return self

    async def __aexit__(self, *exc) -> None:
        if self.proc is not None:
            await asyncio.to_thread(self.proc.terminate, 20)
            self.proc.stop()
        self.tmp.cleanup()

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far."""
        return self.proc.cpu_seconds()

    async def token(self) -> str:
        return await request_token(self.base_url, self.key)


async def _load_sessions(server: ServerProcess, sessions: int, seconds: float):
    return await load_sessions(server.base_url, server.app_id, await server.token(), sessions, seconds)


async def _direct_transport_latency(server: ServerProcess, seconds: float) -> list[float]:
    """The SDK's own client path: the ``direct`` transport plugin and the numba decoder."""
    from engine import AudioFormat, Endpoints
    from engine.contracts import TransportContext
    from engine.plugins import get_plugin_manager
    from engine.wire import AnimationDecoder

    pcm = _speech(seconds)
    n = len(pcm) // (2 * CHUNK)
    sent = np.zeros(n)
    latencies: list[float] = []
    done = asyncio.Event()

    class Listener:
        decoder = AnimationDecoder(50)

        def on_animation(self, message: bytes) -> None:
            anim = self.decoder.decode(message)
            now = time.perf_counter()
            latencies.extend(now - sent[anim.start_frame + i] for i in range(len(anim.keyframes)))
            if anim.end:
                done.set()

        def on_connection_state(self, state) -> None:
            pass

        def on_error(self, error) -> None:
            print(f"transport error: {error}", file=sys.stderr)

    ctx = TransportContext(app_id=server.app_id, avatar_id="demo", audio_format=AudioFormat(sample_rate=RATE),
                           endpoints=Endpoints.for_base(server.base_url), session_token=await server.token(),
                           listener=Listener())
    transport = get_plugin_manager().get("transports", "direct").factory(ctx)
    await transport.connect()
    await send_in_real_time(lambda chunk, end: transport.send_audio("r", chunk, end), pcm, n, sent)
    await asyncio.wait_for(done.wait(), 30)
    await transport.close()
    return latencies


async def _whole_stack_offset(server: ServerProcess, seconds: float) -> tuple[list, dict]:
    """The SDK's direct mode end to end in real time: controller + view rendering at 25 fps.

    Returns the controller's ``FrameRateInfo`` reports (one per second of device time) and counts.
    """
    from engine import AudioFormat, AvatarSDK, AvatarView, Configuration, ConversationState, Offscreen
    from engine.avatar.manager import AvatarManager

    await AvatarSDK.initialize(server.app_id, Configuration(custom_endpoint=server.base_url,
                                                            audio_format=AudioFormat(sample_rate=RATE)))
    AvatarSDK.set_session_token(await server.token())
    avatar = await AvatarManager.shared.load("demo")
    view = AvatarView(avatar, Offscreen(128, 128), backend="cpu")
    controller = view.controller
    reports = []
    controller.on_frame_rate_info = reports.append
    controller.frame_rate_monitor_enabled = True
    controller.set_audio_sink("virtual", real_time=True)
    try:
        await controller.initialize_audio_context()
        await controller.start()
        pcm = np.frombuffer(_speech(seconds), "<i2")
        controller.send(pcm, end=True)
        frames = 0
        async for _, _ in view.frames(fps=25):
            frames += 1
            if controller.conversation_state != ConversationState.playing:
                break
        await controller.close()
    finally:
        view.dispose()
        AvatarSDK.cleanup()
    return reports, {"frames": frames}


async def _reported(report: Report, case: str, measurement) -> None:
    """Run one measurement; if it fails, a row that says why instead of a traceback that loses the rest."""
    try:
        await measurement
    except Exception as exc:
        report.add(case, "failed", float("nan"), unit="ms", error=f"{exc.__class__.__name__}: {exc}"[:300])
        report.note(f"{case} failed: {exc.__class__.__name__}: {exc}")


def _pcts(ms: np.ndarray) -> tuple[float, float]:
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def _generator_costs(report: Report) -> None:
    """The procedural generator's cost per keyframe, and its spectrum step against numpy's FFT."""
    from plugins.motion_procedural.features import Spectrum, power_spectrum
    from plugins.motion_procedural.generator import ProceduralMotionGenerator

    from .report import time_call

    gen = ProceduralMotionGenerator(RATE, 50, 0)
    chunk = np.frombuffer(_speech(1.0), "<i2")[:CHUNK]
    feed = time_call(lambda: gen.feed(chunk), repeat=2000, warmup=50)
    report.add("procedural generator: 40 ms chunk → keyframe", "feed()", feed["median_ms"] * 1e3, unit="µs")
    spectrum = Spectrum(RATE, CHUNK)
    tables = spectrum.tables()
    window = chunk.astype(np.float64) / 32768
    ours = time_call(lambda: power_spectrum(window, *tables), repeat=2000, warmup=50)
    base = time_call(lambda: np.abs(np.fft.rfft(window * spectrum.taper, n=spectrum.nfft)) ** 2, repeat=2000, warmup=50)
    report.add("power spectrum of one 40 ms window (1024-point)", "numba radix-2", ours["median_ms"] * 1e3,
               "numpy rfft", base["median_ms"] * 1e3, unit="µs")


async def _run(args: argparse.Namespace, report: Report) -> None:
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    server_cpu = cpus[0] if len(cpus) >= 2 and not args.no_pin else None
    if server_cpu is not None:
        os.sched_setaffinity(0, set(cpus[1:]))  # clients off the server's core
    _raise_priority()
    async with ServerProcess(server_cpu, args.generator) as server:
        for _ in range(WARMUP_TRIES):  # warm up the server (numba cache, first generator) until a session works
            if not (await _load_sessions(server, 1, 1.0)).failed:
                break

        async def direct() -> None:
            lat = np.asarray(await _direct_transport_latency(server, args.seconds)) * 1e3
            p50, p99 = _pcts(lat)
            report.add("chunk → keyframe decoded, 1 session (direct transport)", "p50", p50, unit="ms")
            report.add("chunk → keyframe decoded, 1 session (direct transport)", "p99", p99, unit="ms",
                       budget=BUDGET_MS)

        async def whole_stack() -> None:
            reports, counts = await _whole_stack_offset(server, args.seconds)
            speaking = reports  # one report per second of device time while the round played
            offsets = [r.motion_to_audio_offset_ms for r in speaking] or [float("nan")]
            report.add("motion-to-audio offset of rendered frames (SDK direct mode, real time)",
                       "max over 1 s windows", float(max(offsets)), unit="ms", budget=1.0, windows=len(speaking),
                       frames=counts["frames"], dropped=int(sum(r.dropped_frames for r in speaking)),
                       render_fps=round(float(np.mean([r.render_fps for r in speaking])) if speaking else 0.0, 1))

        await _reported(report, "chunk → keyframe decoded, 1 session (direct transport)", direct())
        await _reported(report, "motion-to-audio offset of rendered frames (SDK direct mode, real time)",
                        whole_stack())
        # the same two figures over the WebRTC egress
        await _reported(report, "the RTC case", run_rtc(server, args.seconds, report))
        best = 0
        costs = []
        for n in args.sessions:  # every level asked for is run and reported, failures included
            cpu0, client0, t0 = server.cpu_seconds(), time.process_time(), time.perf_counter()
            result = await _load_sessions(server, n, args.seconds)
            wall = time.perf_counter() - t0
            server_seconds = server.cpu_seconds() - cpu0
            if result.failed < n:
                costs.append(server_seconds / ((n - result.failed) * args.seconds))  # CPU s per s of audio
            report_level(report, f"{n} concurrent real-time sessions, 1 server core", result, wall, server_seconds,
                         time.process_time() - client0)
            best = n if result.sustained else best
        report.add("real-time sessions one server core sustains (p99 ≤ 100 ms, measured)", "sessions", float(best),
                   unit="sessions", higher_is_better=True, budget=50.0)
        cost = float(np.median(costs)) if costs else float("nan")
        report.add("server CPU per real-time session", "CPU share", 100 * cost, unit="% of a core",
                   budget=2.0)
        report.add("sessions one core carries by CPU cost (1 / CPU share)", "sessions", 1.0 / cost,
                   unit="sessions", higher_is_better=True, budget=50.0)
    if server_cpu is not None:
        os.sched_setaffinity(0, set(cpus))  # the report's machine line counts the CPUs we may use
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    report.note(f"server pinned to CPU {server_cpu}, clients on {cpus[1:] or 'the same CPUs'}, both at nice "
                f"{os.getpriority(os.PRIO_PROCESS, 0)}; load average "
                f"{load:.1f} when done (other processes share these CPUs and lower the measured count); "
                f"{args.seconds:g} s of 16 kHz speech per session in 40 ms chunks; {args.generator} motion "
                "generator. "
                "The end-to-end rows have no baseline (there is no other Motion Server to run here).")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks e2e", description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0, help="audio per session (default 10)")
    parser.add_argument("--sessions", type=lambda s: [int(x) for x in s.split(",")], default=[25, 50, 75, 100, 150],
                        help="concurrency levels to try, ascending (default 25,50,75,100,150)")
    parser.add_argument("--generator", default=None,
                        help="motion generator plugin the servers run (default: facecast serve's default)")
    parser.add_argument("--cluster", action="store_true",
                        help="also run the cluster case: HAProxy → 1 and 2 processes on PostgreSQL + Redis")
    parser.add_argument("--cluster-sessions", type=lambda s: [int(x) for x in s.split(",")],
                        default=[25, 50, 100, 150], help="levels for the cluster case (default 25,50,100,150)")
    parser.add_argument("--no-pin", action="store_true",
                        help="do not pin the server to one CPU (its CPU share is then still reported per session)")
    args = parser.parse_args(argv)
    args.generator = args.generator or default_generator()
    report = Report("e2e", "End to end on loopback: latency and sessions per core")
    _generator_costs(report)
    asyncio.run(_run(args, report))
    if args.cluster:
        from .e2e_cluster import run_cluster

        asyncio.run(run_cluster(args, report))
    report.emit()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
