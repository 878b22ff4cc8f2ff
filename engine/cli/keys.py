"""Manage API keys of the embedded Motion Server: create (shown once), revoke, list (never the key itself)."""

from __future__ import annotations

import argparse
import sys
import time


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from .apps import add_store_arguments

    add_store_arguments(parser)
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub.add_parser("create", help="create an API key for an app").add_argument("app_id")
    sub.add_parser("revoke", help="revoke a key by its id").add_argument("key_id")
    sub.add_parser("list", help="list key ids").add_argument("app_id", nargs="?", default=None)


def _when(ts: int | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "-"


async def _act(args: argparse.Namespace, store) -> int:
    if args.action == "create":
        key_id, key = await store.create_key(args.app_id)
        print(f"API key: {key}   (id {key_id}; shown once, keep it secret)")
    elif args.action == "revoke":
        if not await store.revoke_key(args.key_id):
            print(f"facecast keys: no active key with id {args.key_id!r}", file=sys.stderr)
            return 1
        print(f"revoked key {args.key_id} (its tokens are refused from now on)")
    else:
        print("key id\tapp\tcreated\trevoked")
        for info in await store.list_keys(args.app_id):
            print(f"{info.key_id}\t{info.app_id}\t{_when(info.created_at)}\t{_when(info.revoked_at)}")
    return 0


def run(args: argparse.Namespace) -> int:
    from .apps import run_with_store

    return run_with_store(args, "keys", lambda store: _act(args, store))
