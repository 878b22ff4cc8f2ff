"""Manage the apps of the Motion Server: create, list, grant avatars, set quotas, show usage."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path


def add_store_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, default=None, help="server data directory (default: FACECAST_DATA_DIR)")
    parser.add_argument("--store", default=os.environ.get("FACECAST_STORE"), metavar="URL",
                        help="the server's store, e.g. postgresql://… (default: FACECAST_STORE, else "
                             "<data dir>/server.sqlite3)")


def run_with_store(args: argparse.Namespace, command: str, action) -> int:
    """Open the store named by ``--store`` / ``--data-dir``, run ``await action(store)``, close it."""
    from ..server.store import StoreUnavailable, open_store

    async def main() -> int:
        store = open_store(args.store, args.data_dir)
        try:
            await store.open()
            return int(await action(store) or 0)
        except (ValueError, StoreUnavailable) as exc:
            print(f"facecast {command}: {exc}", file=sys.stderr)
            return 1
        finally:
            await store.close()
    return asyncio.run(main())


def _non_negative(kind):
    def parse(text: str):
        value = kind(text)
        if value < 0:
            raise argparse.ArgumentTypeError(f"must be >= 0, not {text}")
        return value
    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_store_arguments(parser)
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = sub.add_parser("create", help="create an app and its first API key")
    create.add_argument("name", help="a label for the app")
    create.add_argument("--id", dest="app_id", default=None, help="App ID to use (default: generated)")
    create.add_argument("--grant", action="append", default=["demo"], metavar="AVATAR",
                        help="avatar the app may load (repeatable; 'demo' is always granted)")
    sub.add_parser("list", help="list apps and their avatars")
    grant = sub.add_parser("grant", help="allow an app to load an avatar")
    grant.add_argument("app_id")
    grant.add_argument("avatar_id")
    quota = sub.add_parser("set-quota", help="set an app's balance (sessions, audio seconds); omitted = unlimited")
    quota.add_argument("app_id")
    quota.add_argument("--audio-seconds", type=_non_negative(float), default=None,
                       help="total seconds of audio the app may stream (counted since the app was created)")
    quota.add_argument("--sessions", type=_non_negative(int), default=None, help="total sessions the app may open")
    usage = sub.add_parser("usage", help="show metered sessions and audio seconds against each quota")
    usage.add_argument("app_id", nargs="?", default=None)


def _limit(value, unit: str = "") -> str:
    return "unlimited" if value is None else f"{value:g}{unit}"


async def _act(args: argparse.Namespace, store) -> int:
    from ..server.store import Quota

    if args.action == "create":
        app_id = await store.create_app(args.name, args.app_id)
        key_id, key = await store.create_key(app_id)
        for avatar in dict.fromkeys(args.grant):
            await store.grant(app_id, avatar)
        print(f"App ID:  {app_id}\nAPI key: {key}   (id {key_id}; shown once, keep it secret)")
    elif args.action == "grant":
        await store.grant(args.app_id, args.avatar_id)
        print(f"{args.app_id} may now load {args.avatar_id}")
    elif args.action == "set-quota":
        quota = Quota(args.audio_seconds, args.sessions)
        await store.set_quota(args.app_id, quota)
        print(f"{args.app_id}: audio {_limit(quota.audio_seconds, ' s')}, sessions {_limit(quota.sessions)}")
    elif args.action == "usage":
        apps = [args.app_id] if args.app_id else [a.app_id for a in await store.list_apps()]
        print("app\tsessions\tsession quota\taudio s\taudio quota")
        for app_id in apps:
            if not await store.app_exists(app_id):
                raise ValueError(f"no app with ID {app_id!r}")
            used, quota = await store.usage(app_id), await store.quota(app_id)
            print(f"{app_id}\t{used.sessions}\t{_limit(quota.sessions)}\t{used.audio_seconds:.1f}\t"
                  f"{_limit(quota.audio_seconds, ' s')}")
    else:
        for app in await store.list_apps():
            print(f"{app.app_id}\t{app.name}\tavatars: {', '.join(await store.grants(app.app_id)) or '-'}")
    return 0


def run(args: argparse.Namespace) -> int:
    return run_with_store(args, "apps", lambda store: _act(args, store))
