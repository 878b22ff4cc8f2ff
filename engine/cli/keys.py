"""Manage API keys of the embedded Motion Server: create (shown once), revoke, list (never the key itself)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, default=None, help="server data directory (default: FACECAST_DATA_DIR)")
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub.add_parser("create", help="create an API key for an app").add_argument("app_id")
    sub.add_parser("revoke", help="revoke a key by its id").add_argument("key_id")
    sub.add_parser("list", help="list key ids").add_argument("app_id", nargs="?", default=None)


def _when(ts: int | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "-"


def run(args: argparse.Namespace) -> int:
    from ..server.store import Store, default_data_dir

    store = Store(Path(args.data_dir or default_data_dir()) / "server.sqlite3")
    try:
        if args.action == "create":
            key_id, key = store.create_key(args.app_id)
            print(f"API key: {key}   (id {key_id}; shown once, keep it secret)")
        elif args.action == "revoke":
            if not store.revoke_key(args.key_id):
                print(f"facecast keys: no active key with id {args.key_id!r}", file=sys.stderr)
                return 1
            print(f"revoked key {args.key_id}")
        else:
            print("key id\tapp\tcreated\trevoked")
            for info in store.list_keys(args.app_id):
                print(f"{info.key_id}\t{info.app_id}\t{_when(info.created_at)}\t{_when(info.revoked_at)}")
    except ValueError as exc:
        print(f"facecast keys: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    return 0
