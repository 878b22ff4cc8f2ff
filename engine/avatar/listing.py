"""The asset listing the embedded server answers for ``GET {assets}/avatars/<id>?appId=<app>``."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import AvatarError, ErrorCode
from .manifest import parse_manifest
from .files import read_regular
from .package import MANIFEST, MAX_MANIFEST_BYTES


def asset_listing(package_dir: str | os.PathLike, base_url: str) -> dict:
    """``{"manifest": {...}, "assets": {"<file>": {"url", "size", "sha256"}}}`` for a package directory.

    ``base_url`` is where the package's files are served (``<base_url>/<file>``); it may be absolute
    or relative to the listing's own URL (the client resolves it). The manifest is validated and every
    asset file must exist with the manifest's size (hashes are the manifest's; the client verifies them).
    """
    root = Path(package_dir)
    if not (root / MANIFEST).exists():
        raise AvatarError(ErrorCode.avatarIDUnrecognized, f"no avatar package at {str(root)!r}")
    manifest = parse_manifest(read_regular(root / MANIFEST, MAX_MANIFEST_BYTES, str(root)))
    prefix = base_url.rstrip("/")
    assets = {}
    for name, entry in manifest.assets.items():
        try:
            size = (root / name).stat().st_size
        except OSError:
            size = -1
        if size != entry.size:
            raise AvatarError(ErrorCode.invalidAvatarMetadata,
                              f"{root / name} is {'missing' if size < 0 else f'{size} bytes'}, the manifest says "
                              f"{entry.size} bytes; regenerate the package")
        assets[name] = {"url": f"{prefix}/{name}", "size": entry.size, "sha256": entry.sha256}
    return {"manifest": manifest.to_dict(), "assets": assets}
