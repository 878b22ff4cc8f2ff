"""End to end on loopback: audio chunk → first keyframe latency, and real-time sessions per server core.

The Motion Server runs in its own process (``facecast serve``) pinned to one CPU; the clients run
in this process on the other CPU(s). Each client streams 40 ms PCM16 chunks at real-time pace
and timestamps every chunk; the latency of keyframe i is the time from sending the chunk that
completes its window to having the keyframe decoded.

    python -m benchmarks e2e [--seconds 10] [--sessions 1,25,50,75,100]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .report import Report

RATE = 16000
CHUNK = RATE // 25  # one keyframe window
BUDGET_MS = 100.0
PRIORITY = -10  # nice value for the server and the load generator (root only; ignored otherwise)
GROUPS = 20  # send slots per 40 ms tick in the load generator (2 ms apart)


@functools.lru_cache(maxsize=4)
def _speech(seconds: float) -> bytes:
    t = np.arange(int(seconds * RATE)) / RATE
    env = np.clip(np.sin(2 * np.pi * 2.5 * t), 0, None) ** 2
    return (env * np.sin(2 * np.pi * 140 * t) * 9000).astype("<i2").tobytes()


def _raise_priority() -> None:
    """Measure a dedicated core, not the neighbours: run ahead of ordinary processes when allowed."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, PRIORITY)
    except (PermissionError, OSError):
        pass


class ServerProcess:
    """``facecast serve`` on a free port in a fresh data dir, pinned to CPU ``cpu``."""

    def __init__(self, cpu: int | None) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="facecast-bench-")
        self.cpu = cpu
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "ServerProcess":
        from engine.server import Store

        data = Path(self.tmp.name)
        store = Store(data / "server.sqlite3")
        self.app_id = store.create_app("bench", "bench")
        _, self.key = store.create_key(self.app_id)
        store.grant(self.app_id, "demo")
        store.close()
        def pin() -> None:
            if self.cpu is not None:
                os.sched_setaffinity(0, {self.cpu})
            _raise_priority()
        self.proc = subprocess.Popen([sys.executable, "-m", "engine", "serve", "--port", "0", "--data-dir", str(data),
                                      "--max-sessions-per-app", "10000"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, preexec_fn=pin)
        line = self.proc.stdout.readline()
        if "listening on" not in line:
            raise RuntimeError(f"server did not start: {line}{self.proc.stdout.read()}")
        self.base_url = line.split("listening on ")[1].split()[0]
        return self

    def __exit__(self, *exc) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(20)
            self.proc.stdout.close()
        self.tmp.cleanup()

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    async def token(self) -> str:
        import aiohttp

        async with aiohttp.ClientSession() as http:
            async with http.post(f"{self.base_url}/v1/console/session-tokens", headers={"X-Api-Key": self.key},
                                 json={"expireAt": int(time.time()) + 3600}) as resp:
                return (await resp.json())["sessionToken"]


async def _load_sessions(server: ServerProcess, sessions: int, seconds: float) -> np.ndarray:
    """``sessions`` protocol-only clients streaming in real time; returns every keyframe's latency (ms).

    The load generator must not be the bottleneck, so it is lean: aiohttp's WebSocket client
    (C frame parser), no compression, one pacing loop that sends every session's chunk per tick
    (sessions staggered in groups across the 40 ms tick), one reader task per session.
    """
    import aiohttp

    from engine.wire import AnimationDecoder, message_pb2 as pb
    from engine.wire.messages import audio_input, configure_session

    token = await server.token()
    url = server.base_url + "/v2/driveningress/websocket?id=demo"
    pcm = _speech(seconds)
    n = len(pcm) // (2 * CHUNK)
    chunks = [[audio_input(f"r{s}", pcm[2 * CHUNK * k:2 * CHUNK * (k + 1)], k == n - 1) for k in range(n)]
              for s in range(sessions)]
    sent = np.zeros((sessions, n))
    latencies: list[np.ndarray] = []
    decoder = AnimationDecoder(50)
    headers = {"X-App-ID": server.app_id, "X-Session-Key": token}
    async with aiohttp.ClientSession() as http:
        sockets = []
        for _ in range(sessions):
            ws = await http.ws_connect(url, headers=headers, compress=0, max_msg_size=0)
            await ws.send_bytes(configure_session(RATE))
            reply = pb.Message()
            reply.ParseFromString(await ws.receive_bytes())
            assert reply.type == pb.MESSAGE_TYPE_SERVER_CONFIRM_SESSION, reply
            sockets.append(ws)

        async def reader(s: int, ws) -> None:
            while True:
                anim = decoder.decode(await ws.receive_bytes())
                now = time.perf_counter()
                first = anim.start_frame
                latencies.append(now - sent[s, first:first + len(anim.keyframes)])
                if anim.end:
                    return

        readers = [asyncio.create_task(reader(s, ws)) for s, ws in enumerate(sockets)]
        # Sessions start in GROUPS staggered across the 40 ms tick: one timer per group, not per
        # session (the event loop's timers are only ~1 ms precise), and the readers run between groups.
        groups = [range(g, sessions, GROUPS) for g in range(min(GROUPS, sessions))]
        t0 = time.perf_counter() + 0.05
        for k in range(n):
            for g, members in enumerate(groups):
                delay = t0 + (k + g / len(groups)) / 25 - time.perf_counter()
                await asyncio.sleep(max(delay, 0))
                for s in members:
                    sent[s, k] = time.perf_counter()
                    await sockets[s].send_bytes(chunks[s][k])
        await asyncio.wait_for(asyncio.gather(*readers), 120)
        for ws in sockets:
            await ws.close()
    return np.concatenate(latencies) * 1e3


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
    t0 = time.perf_counter()
    for k in range(n):
        delay = t0 + k / 25 - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        sent[k] = time.perf_counter()
        await transport.send_audio("r", pcm[2 * CHUNK * k:2 * CHUNK * (k + 1)], k == n - 1)
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
    with ServerProcess(server_cpu) as server:
        await _load_sessions(server, 1, 1.0)  # warm up the server (numba cache, first session)
        lat = np.asarray(await _direct_transport_latency(server, args.seconds)) * 1e3
        p50, p99 = _pcts(lat)
        report.add("chunk → keyframe decoded, 1 session (direct transport)", "p50", p50, unit="ms")
        report.add("chunk → keyframe decoded, 1 session (direct transport)", "p99", p99, unit="ms", budget=BUDGET_MS)
        reports, counts = await _whole_stack_offset(server, args.seconds)
        speaking = reports  # one report per second of device time while the round played
        offsets = [r.motion_to_audio_offset_ms for r in speaking] or [float("nan")]
        report.add("motion-to-audio offset of rendered frames (SDK direct mode, real time)", "max over 1 s windows",
                   float(max(offsets)), unit="ms", budget=1.0, windows=len(speaking), frames=counts["frames"],
                   render_fps=round(float(np.mean([r.render_fps for r in speaking])) if speaking else 0.0, 1),
                   dropped=int(sum(r.dropped_frames for r in speaking)))
        best = 0
        failures = 0
        costs = []
        for n in args.sessions:
            cpu0, client0, t0 = server.cpu_seconds(), time.process_time(), time.perf_counter()
            ms = await _load_sessions(server, n, args.seconds)
            wall = time.perf_counter() - t0
            server_seconds = server.cpu_seconds() - cpu0
            client_pct = 100 * (time.process_time() - client0) / wall
            costs.append(server_seconds / (n * args.seconds))  # server CPU seconds per second of session audio
            p50, p99 = _pcts(ms)
            ok = p99 <= BUDGET_MS
            best = n if ok else best
            report.add(f"{n} concurrent real-time sessions, 1 server core", "p99 latency", p99, unit="ms",
                       budget=BUDGET_MS, p50_ms=round(p50, 2), server_cpu_pct=round(100 * server_seconds / wall, 1),
                       client_cpu_pct=round(client_pct, 1), keyframes=int(ms.size))
            failures = 0 if ok else failures + 1
            if failures == 2:  # one miss can be another process's burst; two in a row is the limit
                break
        report.add("real-time sessions one server core sustains (p99 ≤ 100 ms, measured)", "sessions", float(best),
                   unit="sessions", higher_is_better=True, budget=50.0)
        cost = float(np.median(costs))
        report.add("server CPU per real-time session", "CPU share", 100 * cost, unit="% of a core",
                   budget=2.0)
        report.add("sessions one core carries by CPU cost (1 / CPU share)", "sessions", 1.0 / cost,
                   unit="sessions", higher_is_better=True, budget=50.0)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    report.note(f"server pinned to CPU {server_cpu}, clients on {cpus[1:] or 'the same CPUs'}, both at nice "
                f"{os.getpriority(os.PRIO_PROCESS, 0)}; load average "
                f"{load:.1f} when done (other processes share these CPUs and lower the measured count); "
                f"{args.seconds:g} s of 16 kHz speech per session in 40 ms chunks; procedural generator. "
                "The end-to-end rows have no baseline (there is no other Motion Server to run here).")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks e2e", description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0, help="audio per session (default 10)")
    parser.add_argument("--sessions", type=lambda s: [int(x) for x in s.split(",")], default=[25, 50, 75, 100, 150],
                        help="concurrency levels to try, ascending (default 25,50,75,100,150)")
    parser.add_argument("--no-pin", action="store_true",
                        help="do not pin the server to one CPU (its CPU share is then still reported per session)")
    args = parser.parse_args(argv)
    report = Report("e2e", "End to end on loopback: latency and sessions per core")
    _generator_costs(report)
    asyncio.run(_run(args, report))
    report.emit()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
