"""Run the embedded Motion Server (console API, ingress WebSocket, avatar assets) until stopped.

On first start with an empty store it creates a local app, an API key and a grant for the demo
avatar, and prints how to use them (the key is shown only then). Several processes serve one
service when they share ``--store postgresql://…`` and ``--redis redis://…`` behind a balancer
(route by ``GET /readyz``; metrics at ``GET /metrics``). SIGTERM drains: new sessions go
elsewhere, running rounds finish (up to ``--drain-timeout``), then the process exits; SIGINT
(Ctrl-C) stops at once.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import signal
import sys
from pathlib import Path

from ..config import DEFAULT_MOTION_GENERATOR, LOCAL_SERVER_PORT
from ..server.limits import Limits
from ..server.ratelimit import RateLimits


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: loopback only)")
    parser.add_argument("--port", type=int, default=LOCAL_SERVER_PORT,
                        help=f"port (default {LOCAL_SERVER_PORT}, env FACECAST_LOCAL_PORT; 0 picks a free one)")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="where the SQLite store and installed avatars live (default: FACECAST_DATA_DIR or "
                             "~/.local/share/facecast)")
    parser.add_argument("--store", default=os.environ.get("FACECAST_STORE"), metavar="URL",
                        help="postgresql://… to share apps, keys and usage between processes (default: "
                             "FACECAST_STORE, else <data dir>/server.sqlite3)")
    parser.add_argument("--redis", default=os.environ.get("FACECAST_REDIS"), metavar="URL",
                        help="redis://… for session leases and rate limits shared between processes "
                             "(default: FACECAST_REDIS, else counted in this process)")
    parser.add_argument("--generator", default=DEFAULT_MOTION_GENERATOR,
                        help=f"motion generator plugin (default: {DEFAULT_MOTION_GENERATOR}; procedural follows "
                             "loudness only)")
    defaults = Limits()
    parser.add_argument("--max-sessions-per-app", type=int, default=defaults.max_sessions_per_app,
                        help=f"concurrent ingress sessions per App ID (default {defaults.max_sessions_per_app})")
    parser.add_argument("--idle-timeout", type=float, default=defaults.idle_timeout_s,
                        help=f"seconds without a message before a session is closed (default {defaults.idle_timeout_s:g})")
    parser.add_argument("--max-session", type=float, default=defaults.max_session_s,
                        help=f"longest session in seconds (default {defaults.max_session_s:g})")
    rates = RateLimits()
    parser.add_argument("--key-rate", type=float, default=rates.per_key_rps, metavar="RPS",
                        help=f"console requests per second per API key (burst 2×; default {rates.per_key_rps:g})")
    parser.add_argument("--address-rate", type=float, default=rates.per_address_rps, metavar="RPS",
                        help=f"console requests per second per client address (burst 2×; default "
                             f"{rates.per_address_rps:g})")
    parser.add_argument("--trusted-proxy", action="append", default=[], metavar="ADDR",
                        help="a balancer address (or network) whose X-Forwarded-For names the client (repeatable)")
    parser.add_argument("--drain-timeout", type=float, default=30.0, metavar="S",
                        help="on SIGTERM, how long running rounds may take to finish (default 30)")
    parser.add_argument("--lease-ttl", type=float, default=3.0, metavar="S",
                        help="with --redis, how soon a killed process's sessions are freed (default 3)")
    parser.add_argument("--page-app", default=None, metavar="APP_ID",
                        help="the app the browser page at /page/ acts for (default: the first app); "
                             "its URL, with a key for this run, is printed at start")
    parser.add_argument("--no-page", action="store_true", help="do not offer the browser page")
    parser.add_argument("--video-sessions", type=int, default=None, metavar="N",
                        help="server-rendered video sessions at once (EGRESS_TYPE_WEBRTC_VIDEO; default: "
                             "one per 2 CPUs — see `facecast bench video`)")
    parser.add_argument("--video-size", default="512x512", metavar="WxH",
                        help="default size of server-rendered video (a session may ask for another)")


async def _serve(args: argparse.Namespace) -> int:
    from ..server import MotionServer
    from ..server.provision import provision_if_empty, usage_text
    from ..server.store import StoreUnavailable, is_postgres_url

    try:
        limits = Limits(max_sessions_per_app=args.max_sessions_per_app, idle_timeout_s=args.idle_timeout,
                        max_session_s=args.max_session)
        rates = RateLimits(per_key_rps=args.key_rate, per_key_burst=2 * args.key_rate,
                           per_address_rps=args.address_rate, per_address_burst=2 * args.address_rate,
                           trusted_proxies=tuple(args.trusted_proxy))
        if args.drain_timeout < 0 or args.lease_ttl <= 0:
            raise ValueError("--drain-timeout must be >= 0 and --lease-ttl > 0")
        video = _video_settings(args)
    except ValueError as exc:
        print(f"facecast serve: {exc}", file=sys.stderr)
        return 2
    server = MotionServer(data_dir=args.data_dir, motion_generator=args.generator, limits=limits,
                          store_url=args.store, redis_url=args.redis, rate_limits=rates, lease_ttl_s=args.lease_ttl,
                          video=video)
    try:
        setup = await provision_if_empty(server.store)
        # before listening (the first line out says where): the first start after an install compiles the
        # video kernels here, up to a minute, instead of inside the first video session
        await server.video.warm_up()
        await server.start(args.host, args.port)
    except OSError as exc:
        await server.stop()
        await server.store.close()
        print(f"facecast serve: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # StoreUnavailable, or Redis not answering
        await server.store.close()
        kind = "store" if isinstance(exc, StoreUnavailable) else "Redis"
        print(f"facecast serve: the {kind} is unavailable: {exc}", file=sys.stderr)
        return 1
    # What start-up loaded (numba, numpy, aiohttp: ~150k objects) lives as long as this process: frozen
    # out of the collector's sight, a full collection scans only what sessions allocate (a few ms, where
    # it took ~100 ms with every session's motion stalled).
    gc.collect()
    gc.freeze()
    where = "PostgreSQL" if is_postgres_url(args.store) else str(server.data_dir)
    print(f"Motion Server listening on {server.base_url}  (store: {where}"
          f"{', Redis' if args.redis else ''}; pid {os.getpid()})", flush=True)
    if setup is not None:
        print(usage_text(server.base_url, setup), flush=True)
    else:
        print("Apps: " + ", ".join(app.app_id for app in await server.store.list_apps())
              + "  (facecast apps list / keys create APP_ID)", flush=True)
    await _offer_page(server, args, setup)
    stop = asyncio.Event()
    drain = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_signal_handler(signal.SIGTERM, lambda: (stop if drain.is_set() else drain).set())
    try:
        done, _ = await asyncio.wait([asyncio.create_task(stop.wait()), asyncio.create_task(drain.wait())],
                                     return_when=asyncio.FIRST_COMPLETED)
        if drain.is_set() and not stop.is_set():
            print(f"Draining (up to {args.drain_timeout:g} s)…", flush=True)
            drainer = asyncio.create_task(server.drain(args.drain_timeout))
            stopper = asyncio.create_task(stop.wait())
            await asyncio.wait([drainer, stopper], return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await server.stop()
    print("Motion Server stopped.", flush=True)
    return 0


def _video_settings(args: argparse.Namespace):
    from ..server.video import VideoSettings

    width, _, height = args.video_size.lower().partition("x")
    try:
        size = {"width": int(width), "height": int(height)}
    except ValueError:
        raise ValueError(f"--video-size must look like 512x512, not {args.video_size!r}") from None
    if args.video_sessions is not None:
        if args.video_sessions < 0:
            raise ValueError("--video-sessions must be >= 0")
        size["max_sessions"] = args.video_sessions
    return VideoSettings(**size)


async def _offer_page(server, args: argparse.Namespace, setup) -> None:
    from ..server.web import PageAccess

    if args.no_page:
        return
    app_id = args.page_app or (setup.app_id if setup is not None else None)
    if app_id is None:
        apps = await server.store.list_apps()
        app_id = apps[0].app_id if apps else None
    if app_id is None:
        print("No app yet, so no browser page (facecast apps create …).", flush=True)
        return
    server.page = PageAccess(app_id)
    print(f"Browser page (app {app_id}; the key in it is valid until this server stops):\n  "
          f"{server.page.url(server.base_url)}", flush=True)


def run(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_serve(args))
    except KeyError as exc:  # an unknown --generator
        print(f"facecast serve: {exc.args[0]}", file=sys.stderr)
        return 2
