"""The cluster case of ``python -m benchmarks e2e --cluster``: HAProxy → N ``facecast serve`` on PostgreSQL + Redis.

For 1 and then 2 server processes behind the balancer (all on loopback, started here in
temporary directories): the real-time sessions sustained (every session completes, p99 ≤ 100 ms)
at each level of ``--cluster-sessions``, and console token requests per second through the
balancer beside the same requests sent straight to one process (the balancer's cost).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path

from .e2e_load import load_sessions, report_level

TOKEN_CLIENTS = 16  # concurrent console clients, each on keep-alive connections
TOKEN_SECONDS = 3.0


async def token_rate(base_url: str, key: str, seconds: float = TOKEN_SECONDS) -> tuple[float, int]:
    """Successful token requests per second from TOKEN_CLIENTS concurrent clients, and the failures."""
    import aiohttp

    ok = failed = 0
    deadline = time.perf_counter() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        async def client() -> None:
            nonlocal ok, failed
            while time.perf_counter() < deadline:
                try:
                    async with http.post(f"{base_url}/v1/console/session-tokens", headers={"X-Api-Key": key},
                                         json={"expireAt": int(time.time()) + 600}) as resp:
                        await resp.read()
                        ok, failed = (ok + 1, failed) if resp.status == 200 else (ok, failed + 1)
                except aiohttp.ClientError:
                    failed += 1
        t0 = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(TOKEN_CLIENTS)))
        wall = time.perf_counter() - t0
    return ok / wall, failed


async def _one_size(report, procs_n: int, data: Path, dsn: str, redis_url: str, app_id: str, key: str,
                    args) -> tuple[int, float, float]:
    from tests.scaleout.services import HAProxy, ServeProcess

    from .e2e import FAST_CONSOLE, PRIORITY, request_token

    extra = ("--max-sessions-per-app", "100000", "--trusted-proxy", "127.0.0.1", "--generator", args.generator,
             *FAST_CONSOLE)
    procs = [ServeProcess(data, dsn, redis_url, *extra, nice=PRIORITY, wait=False) for _ in range(procs_n)]
    balancer = None
    try:
        for p in procs:
            await asyncio.to_thread(p.wait_started)
        balancer = HAProxy([p.port for p in procs])
        token = await request_token(procs[0].base_url, key)
        for p in procs:  # warm each process up (numba cache, first session) outside the measurement
            await load_sessions(p.base_url, app_id, token, 1, 1.0)
        best = 0
        for n in args.cluster_sessions:
            cpu0, client0, t0 = sum(p.cpu_seconds() for p in procs), time.process_time(), time.perf_counter()
            result = await load_sessions(balancer.base_url, app_id, token, n, args.seconds)
            wall = time.perf_counter() - t0
            report_level(report, f"{n} sessions via HAProxy, {procs_n} process{'es' if procs_n > 1 else ''}",
                         result, wall, sum(p.cpu_seconds() for p in procs) - cpu0, time.process_time() - client0)
            best = n if result.sustained else best
        via, via_failed = await token_rate(balancer.base_url, key)
        direct, _ = await token_rate(procs[0].base_url, key)
        return best, via, direct
    finally:
        if balancer is not None:
            balancer.stop()
        for p in procs:
            p.stop()


async def run_cluster(args, report) -> None:
    from tests.scaleout.services import Postgres, Redis, have, postgres_available

    from .e2e import provision

    if not (postgres_available() and have("redis-server") and have("haproxy")):
        report.note("cluster case skipped: it needs postgresql, redis-server and haproxy (scripts/system-packages.txt)")
        return
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))  # the single-server case pinned us
    pg, redis = Postgres(), Redis()
    tmp = tempfile.TemporaryDirectory(prefix="facecast-bench-cluster-")
    try:
        dsn = pg.create_database("bench")
        app_id, key = await provision(dsn, Path(tmp.name))
        figures = {}
        for procs_n in (1, 2):
            figures[procs_n] = await _one_size(report, procs_n, Path(tmp.name), dsn, redis.url, app_id, key, args)
        (best1, via1, direct1), (best2, via2, _) = figures[1], figures[2]
        report.add("real-time sessions sustained via HAProxy (p99 ≤ 100 ms, none failed)", "2 processes",
                   float(best2), "1 process", float(best1), unit="sessions", higher_is_better=True)
        report.add("console token requests through the balancer", "HAProxy → 1 process", via1,
                   "straight to the process", direct1, unit="req/s", higher_is_better=True)
        report.add("console token requests through the balancer", "HAProxy → 2 processes", via2,
                   "HAProxy → 1 process", via1, unit="req/s", higher_is_better=True)
    finally:
        redis.stop()
        pg.stop()
        tmp.cleanup()
    cpus = os.cpu_count() or 1
    if cpus <= 2:
        meaning = (f"With {cpus} CPUs the second process gets no core of its own, so the 1 → 2 process figures "
                   "cannot show scaling: they show that sessions through the balancer meet the budget (or not), "
                   "what the balancer costs, and that the shared store and leases do not cap throughput. "
                   "Scaling needs a core (or a machine) per process.")
    else:
        meaning = "The 1 → 2 process figures show scaling only as far as idle cores allow."
    report.note(f"cluster case: HAProxy (round robin, /readyz checks), PostgreSQL and Redis on loopback; every "
                f"server process, the balancer, the databases and this load generator share the machine's {cpus} "
                f"CPUs, none pinned. {meaning} Levels of --cluster-sessions run for --seconds each; "
                f"{args.generator} motion generator.")
