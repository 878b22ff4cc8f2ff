"""Run the embedded Motion Server (console API, ingress WebSocket, avatar assets) until Ctrl-C.

On first start with an empty data directory it creates a local app, an API key and a grant for
the demo avatar, and prints how to use them (the key is shown only then).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

from ..config import LOCAL_SERVER_PORT
from ..server.limits import Limits


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: loopback only)")
    parser.add_argument("--port", type=int, default=LOCAL_SERVER_PORT,
                        help=f"port (default {LOCAL_SERVER_PORT}, env FACECAST_LOCAL_PORT; 0 picks a free one)")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="where apps, keys and the token secret live (default: FACECAST_DATA_DIR or "
                             "~/.local/share/facecast)")
    parser.add_argument("--generator", default="procedural", help="motion generator plugin (default: procedural)")
    defaults = Limits()
    parser.add_argument("--max-sessions-per-app", type=int, default=defaults.max_sessions_per_app,
                        help=f"concurrent ingress sessions per App ID (default {defaults.max_sessions_per_app})")
    parser.add_argument("--idle-timeout", type=float, default=defaults.idle_timeout_s,
                        help=f"seconds without a message before a session is closed (default {defaults.idle_timeout_s:g})")
    parser.add_argument("--max-session", type=float, default=defaults.max_session_s,
                        help=f"longest session in seconds (default {defaults.max_session_s:g})")


async def _serve(args: argparse.Namespace) -> int:
    from ..server import MotionServer
    from ..server.provision import provision_if_empty, usage_text

    try:
        limits = Limits(max_sessions_per_app=args.max_sessions_per_app, idle_timeout_s=args.idle_timeout,
                        max_session_s=args.max_session)
    except ValueError as exc:
        print(f"facecast serve: {exc}", file=sys.stderr)
        return 2
    server = MotionServer(data_dir=args.data_dir, motion_generator=args.generator, limits=limits)
    setup = provision_if_empty(server.store)
    try:
        await server.start(args.host, args.port)
    except OSError as exc:
        await server.stop()
        print(f"facecast serve: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"Motion Server listening on {server.base_url}  (data: {server.data_dir})", flush=True)
    if setup is not None:
        print(usage_text(server.base_url, setup), flush=True)
    else:
        print("Apps: " + ", ".join(app for app, _, _ in server.store.list_apps())
              + "  (facecast apps list / keys create APP_ID)", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await server.stop()
    print("Motion Server stopped.", flush=True)
    return 0


def run(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_serve(args))
    except KeyError as exc:  # an unknown --generator
        print(f"facecast serve: {exc.args[0]}", file=sys.stderr)
        return 2
