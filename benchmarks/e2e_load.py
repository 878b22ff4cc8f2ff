"""The e2e load generator: many protocol-only real-time sessions against one ingress URL.

Every session streams 40 ms PCM16 chunks at real-time pace and timestamps each; the latency of
keyframe i is the time from sending the chunk that completes its window to having it decoded.
A level never raises: sessions that cannot connect, are refused or break off are counted as
failed (with the first reason), and the keyframes of the others are still measured.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time

import attrs
import numpy as np

RATE = 16000
CHUNK = RATE // 25  # one keyframe window
BUDGET_MS = 100.0
GROUPS = 20  # send slots per 40 ms tick (2 ms apart)
CONNECT_CONCURRENCY = 32  # handshakes in flight while a level is set up


@functools.lru_cache(maxsize=4)
def speech(seconds: float) -> bytes:
    t = np.arange(int(seconds * RATE)) / RATE
    env = np.clip(np.sin(2 * np.pi * 2.5 * t), 0, None) ** 2
    return (env * np.sin(2 * np.pi * 140 * t) * 9000).astype("<i2").tobytes()


@attrs.frozen
class LevelResult:
    sessions: int
    failed: int
    latencies_ms: np.ndarray
    first_error: str = ""

    @property
    def p50_p99(self) -> tuple[float, float]:
        if not self.latencies_ms.size:
            return float("nan"), float("nan")
        return float(np.percentile(self.latencies_ms, 50)), float(np.percentile(self.latencies_ms, 99))

    @property
    def sustained(self) -> bool:
        """Every session completed and p99 is within budget."""
        return self.failed == 0 and self.p50_p99[1] <= BUDGET_MS


def _reason(exc: BaseException) -> str:
    return f"{exc.__class__.__name__}: {exc}"[:200] if str(exc) else exc.__class__.__name__


async def load_sessions(base_url: str, app_id: str, token: str, sessions: int, seconds: float) -> LevelResult:
    """Run ``sessions`` real-time sessions through ``base_url`` at once; never raises.

    Lean on purpose, so the generator is not the bottleneck: aiohttp's WebSocket client (C frame
    parser), no compression, one pacing loop sending every session's chunk per tick (sessions
    staggered in groups across the 40 ms tick), one reader task per session. The connector has
    no connection cap (aiohttp's default of 100 would make session 101 wait forever).
    """
    import aiohttp

    from engine.wire import AnimationDecoder, message_pb2 as pb
    from engine.wire.messages import audio_input, configure_session

    url = base_url + "/v2/driveningress/websocket?id=demo"
    pcm = speech(seconds)
    n = len(pcm) // (2 * CHUNK)
    sent = np.zeros((sessions, n))
    latencies: list[np.ndarray] = []
    errors: list[str] = []
    decoder = AnimationDecoder(50)
    headers = {"X-App-ID": app_id, "X-Session-Key": token}
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    timeout = aiohttp.ClientTimeout(total=None, connect=15, sock_connect=15)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=timeout) as http:
        async def open_one(s: int):
            async with gate:
                try:
                    ws = await http.ws_connect(url, headers=headers, compress=0, max_msg_size=0)
                    await ws.send_bytes(configure_session(RATE))
                    reply = pb.Message()
                    reply.ParseFromString(await asyncio.wait_for(ws.receive_bytes(), 15))
                    if reply.type != pb.MESSAGE_TYPE_SERVER_CONFIRM_SESSION:
                        await ws.close()
                        raise RuntimeError(f"refused: {reply.server_error.message} ({reply.server_error.code})")
                    return ws
                except Exception as exc:  # one session's failure is counted, not raised
                    errors.append(_reason(exc))
                    return None

        sockets = await asyncio.gather(*(open_one(s) for s in range(sessions)))
        live = [(s, ws) for s, ws in enumerate(sockets) if ws is not None]
        chunks = {s: [audio_input(f"r{s}", pcm[2 * CHUNK * k:2 * CHUNK * (k + 1)], k == n - 1) for k in range(n)]
                  for s, _ in live}

        async def reader(s: int, ws) -> None:
            try:
                while True:
                    anim = decoder.decode(await ws.receive_bytes())
                    now = time.perf_counter()
                    first = anim.start_frame
                    latencies.append(now - sent[s, first:first + len(anim.keyframes)])
                    if anim.end:
                        return
            except Exception as exc:
                errors.append(_reason(exc))
                raise

        readers = {s: asyncio.create_task(reader(s, ws)) for s, ws in live}
        broken: set[int] = set()
        # Sessions start in GROUPS staggered across the 40 ms tick: one timer per group, not per
        # session (the event loop's timers are only ~1 ms precise), and the readers run between groups.
        groups = [[s for s, _ in live[g::GROUPS]] for g in range(min(GROUPS, len(live)))]
        by_id = dict(live)
        t0 = time.perf_counter() + 0.05
        for k in range(n):
            for g, members in enumerate(groups):
                await asyncio.sleep(max(t0 + (k + g / len(groups)) / 25 - time.perf_counter(), 0))
                for s in members:
                    if s in broken:
                        continue
                    sent[s, k] = time.perf_counter()
                    try:
                        await by_id[s].send_bytes(chunks[s][k])
                    except Exception as exc:
                        errors.append(_reason(exc))
                        broken.add(s)
        done, pending = await asyncio.wait(readers.values(), timeout=30) if readers else (set(), set())
        for task in pending:
            task.cancel()
            errors.append("TimeoutError: the round did not end within 30 s of its last chunk")
        cut_off = {s for s, t in readers.items() if t in pending or t.exception() is not None}
        for _, ws in live:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 5)
    failed = (sessions - len(live)) + len(broken | cut_off)
    all_ms = np.concatenate(latencies) * 1e3 if latencies else np.zeros(0)
    return LevelResult(sessions, failed, all_ms, errors[0] if errors else "")


def report_level(report, case: str, result: LevelResult, wall_s: float, server_cpu_s: float,
                 client_cpu_s: float) -> None:
    """One table row per level, failed sessions included (the first reason goes into the JSON)."""
    p50, p99 = result.p50_p99
    extra = {"p50_ms": round(p50, 2), "server_cpu_pct": round(100 * server_cpu_s / wall_s, 1),
             "client_cpu_pct": round(100 * client_cpu_s / wall_s, 1), "keyframes": int(result.latencies_ms.size),
             "failed_sessions": result.failed}
    if result.first_error:
        extra["first_error"] = result.first_error
    label = "p99 latency" if not result.failed else f"p99 ({result.failed} failed)"
    report.add(case, label, p99, unit="ms", budget=BUDGET_MS, **extra)


async def send_in_real_time(send, pcm: bytes, n: int, sent: np.ndarray) -> None:
    """Send ``n`` 40 ms chunks of ``pcm`` on the 25 Hz grid a live source keeps; ``sent[k]`` = when chunk k left."""
    t0 = time.perf_counter()
    for k in range(n):
        delay = t0 + k / 25 - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        sent[k] = time.perf_counter()
        await send(pcm[2 * CHUNK * k:2 * CHUNK * (k + 1)], k == n - 1)
