"""Host avatar packages on this Motion Server: add (validated like a download), list, remove.

An added avatar lives in `<data dir>/avatars/<id>/`, where the server's asset endpoint serves it to the
apps granted it, so `AvatarManager.shared.load("<id>")` downloads it (progress, sha256, cache) as it does
the demo. Its metadata goes into the server's store.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from .apps import add_store_arguments, run_with_store


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_store_arguments(parser)
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="validate a package (.zip or directory) and host it")
    add.add_argument("package", help="AVATAR.zip (e.g. from `facecast import-gaussian-avatars`) or a package directory")
    add.add_argument("--grant", action="append", default=[], metavar="APP_ID",
                     help="an app that may load it (repeatable; `facecast apps grant` adds more later)")
    add.add_argument("--replace", action="store_true", help="replace an avatar of the same id")
    sub.add_parser("list", help="list the hosted avatars and the apps that may load them")
    remove = sub.add_parser("remove", help="stop hosting an avatar and delete its files")
    remove.add_argument("avatar_id")


def _avatars_dir(args: argparse.Namespace) -> Path:
    from ..server.store import default_data_dir

    return Path(args.data_dir if args.data_dir is not None else default_data_dir()) / "avatars"


async def _act(args: argparse.Namespace, store) -> int:
    from ..avatar.install import install_package, uninstall_package
    from ..avatar.package import bundled_ids
    from ..server.store import AvatarRecord

    root = _avatars_dir(args)
    if args.action == "add":
        for app_id in args.grant:  # before anything is installed: a typo must not leave a half-done add
            if not await store.app_exists(app_id):
                raise ValueError(f"no app with ID {app_id!r}; `facecast apps list` shows them")
        installed = install_package(args.package, root, replace=args.replace)
        m = installed.manifest
        await store.put_avatar(AvatarRecord(avatar_id=m.id, name=m.name, manifest_sha256=installed.manifest_sha256,
                                            size_bytes=installed.size_bytes, location=str(installed.directory),
                                            created_at=int(time.time())))
        for app_id in args.grant:
            await store.grant(app_id, m.id)
        granted = f"; apps {', '.join(args.grant)} may load it" if args.grant else \
            f"; grant apps with `facecast apps grant APP_ID {m.id}`"
        print(f"hosting {m.id!r} ({m.name}): {m.gaussian_count} Gaussians, SH degree {m.sh_degree}, "
              f"{installed.size_bytes / 1e6:.1f} MB in {installed.directory}{granted}")
    elif args.action == "remove":
        if args.avatar_id in bundled_ids() and not (root / args.avatar_id).exists():
            raise ValueError(f"{args.avatar_id!r} is bundled with the engine and cannot be removed")
        removed_files = uninstall_package(root, args.avatar_id)
        removed_record = await store.remove_avatar(args.avatar_id)
        if not (removed_files or removed_record):
            raise ValueError(f"no hosted avatar {args.avatar_id!r}; `facecast avatars list` shows them")
        print(f"removed {args.avatar_id!r}")
    else:
        granted: dict[str, list[str]] = {}
        for app in await store.list_apps():
            for avatar_id in await store.grants(app.app_id):
                granted.setdefault(avatar_id, []).append(app.app_id)
        print("id\tname\tsize MB\tapps")
        for rec in await store.list_avatars():
            apps = ", ".join(granted.get(rec.avatar_id, [])) or "-"
            print(f"{rec.avatar_id}\t{rec.name}\t{rec.size_bytes / 1e6:.1f}\t{apps}")
        for avatar_id in bundled_ids():
            print(f"{avatar_id}\t(bundled)\t-\t{', '.join(granted.get(avatar_id, [])) or '-'}")
    return 0


def run(args: argparse.Namespace) -> int:
    return run_with_store(args, "avatars", lambda store: _act(args, store))
