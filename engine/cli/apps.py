"""Manage the apps of the embedded Motion Server: create, list, and grant avatars."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, default=None, help="server data directory (default: FACECAST_DATA_DIR)")
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


def run(args: argparse.Namespace) -> int:
    from ..server.store import Store, default_data_dir

    store = Store(Path(args.data_dir or default_data_dir()) / "server.sqlite3")
    try:
        if args.action == "create":
            app_id = store.create_app(args.name, args.app_id)
            key_id, key = store.create_key(app_id)
            for avatar in dict.fromkeys(args.grant):
                store.grant(app_id, avatar)
            print(f"App ID:  {app_id}\nAPI key: {key}   (id {key_id}; shown once, keep it secret)")
        elif args.action == "grant":
            store.grant(args.app_id, args.avatar_id)
            print(f"{args.app_id} may now load {args.avatar_id}")
        else:
            for app_id, name, _ in store.list_apps():
                print(f"{app_id}\t{name}\tavatars: {', '.join(store.grants(app_id)) or '-'}")
    except ValueError as exc:
        print(f"facecast apps: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    return 0
