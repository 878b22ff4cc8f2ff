"""Install an uploaded avatar package into a server's avatar directory, validated exactly as a download is.

Every file the manifest lists is read once (a zip through :class:`SafeZip`'s limits, a directory as
regular files only, each up to its declared size), checked against its size and sha256, and the avatar is
built from those bytes — with its full and its compressed Gaussian set — before anything is written. Only
the listed files are written, into a fresh directory that replaces ``<root>/<id>`` in one rename, so a
server never serves a half-installed or unvalidated package.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import attrs

from ..errors import AvatarError, ErrorCode
from .files import read_regular
from .manifest import GAUSSIANS_COMPRESSED, MAX_ASSET_BYTES, ID_PATTERN, Manifest, parse_manifest
from .package import MANIFEST, MAX_MANIFEST_BYTES, avatar_from_files
from .zipsafe import SafeZip

MAX_UPLOAD_BYTES = 2 << 30


@attrs.frozen
class Installed:
    manifest: Manifest
    directory: Path
    manifest_sha256: str
    size_bytes: int  # the manifest and every asset


def _read_source(path: Path) -> tuple[bytes, dict[str, bytes]]:
    what = str(path)
    if path.is_dir():
        manifest_bytes = bytes(read_regular(path / MANIFEST, MAX_MANIFEST_BYTES, what))
        manifest = parse_manifest(manifest_bytes)
        return manifest_bytes, {n: bytes(read_regular(path / n, e.size, what)) for n, e in manifest.assets.items()}
    if not path.is_file():
        raise AvatarError(ErrorCode.avatarIDUnrecognized, f"no avatar package at {what!r}: expected a .zip or a "
                                                          "directory holding manifest.json")
    if path.stat().st_size > MAX_UPLOAD_BYTES:
        raise AvatarError(ErrorCode.invalidAvatarMetadata,
                          f"{what}: {path.stat().st_size} bytes, over the {MAX_UPLOAD_BYTES}-byte package limit")
    with SafeZip(str(path), what) as zf:
        manifest_bytes = zf.read(MANIFEST, MAX_MANIFEST_BYTES)
        manifest = parse_manifest(manifest_bytes)
        return manifest_bytes, {n: zf.read(n, min(e.size, MAX_ASSET_BYTES)) for n, e in manifest.assets.items()}


def install_package(source: str | os.PathLike, root: str | os.PathLike, avatar_id: str | None = None,
                    replace: bool = False) -> Installed:
    """Validate the package at ``source`` (zip or directory) and install it as ``<root>/<id>``.

    ``avatar_id`` must equal the manifest's id when given (ids are part of the signed content: a package
    is not renamed on the way in). ``replace`` allows overwriting an installed avatar of that id.
    """
    src = Path(source)
    manifest_bytes, files = _read_source(src)
    manifest = parse_manifest(manifest_bytes)
    if avatar_id is not None and avatar_id != manifest.id:
        raise AvatarError(ErrorCode.invalidAvatarMetadata,
                          f"{src}: the package's id is {manifest.id!r}, not {avatar_id!r}; re-export it with that id")
    if not ID_PATTERN.match(manifest.id):
        raise AvatarError(ErrorCode.invalidAvatarMetadata, f"{src}: avatar id {manifest.id!r} is not a plain name")
    avatar_from_files(manifest, files.__getitem__)  # verifies sizes, hashes and every array
    if GAUSSIANS_COMPRESSED in manifest.assets:
        avatar_from_files(manifest, files.__getitem__, use_compressed_model=True)
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    target = root / manifest.id
    if (target.exists() or target.is_symlink()) and not replace:
        raise AvatarError(ErrorCode.invalidAvatarMetadata,
                          f"an avatar {manifest.id!r} is already installed at {target}; remove it first or replace it")
    staging = Path(tempfile.mkdtemp(prefix=f".{manifest.id}.", suffix=".part", dir=root))
    try:
        for name, data in files.items():
            (staging / name).write_bytes(data)
        (staging / MANIFEST).write_bytes(manifest_bytes)
        for p in [staging, *staging.iterdir()]:
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
        old = None
        if target.exists() or target.is_symlink():
            old = Path(tempfile.mkdtemp(prefix=f".{manifest.id}.", suffix=".old", dir=root))
            os.replace(target, old / "package")
        os.replace(staging, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    size = len(manifest_bytes) + sum(len(d) for d in files.values())
    return Installed(manifest, target, hashlib.sha256(manifest_bytes).hexdigest(), size)


def uninstall_package(root: str | os.PathLike, avatar_id: str) -> bool:
    """Remove ``<root>/<avatar_id>``; False if no avatar of that id is installed there."""
    if not ID_PATTERN.match(avatar_id or ""):
        return False
    target = Path(root) / avatar_id
    if not (target / MANIFEST).is_file() or target.is_symlink():
        return False
    shutil.rmtree(target)
    return True
