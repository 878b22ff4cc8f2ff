"""Avatar packages on disk: writing them, and loading a directory or zip with full validation.

A package is ``manifest.json`` plus ``head.npz``, ``gaussians.npz``, ``idle.npz`` and optionally
``gaussians_compressed.npz`` (docs/avatar-format.md). Loading checks every file's size and sha256
against the manifest, then every array's shape, dtype and range, then the arrays' digest.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

import attrs
import numpy as np

from ..errors import AvatarError, ErrorCode
from .avatar import Avatar
from .compression import compress_gaussians, decompress_gaussians
from .manifest import (GAUSSIANS, GAUSSIANS_COMPRESSED, HEAD, IDLE, SH, AssetEntry, Manifest, manifest_json,
                       parse_manifest)
from .npzio import arrays_digest, npz_bytes, read_npz
from .sh_arrays import sh_arrays, sh_from_arrays
from .files import read_regular
from .validate import (GAUSSIAN_KEYS, HEAD_KEYS, bad, gaussian_shapes, gaussians_from_arrays, head_from_arrays,
                       head_shapes, idle_from_arrays, idle_shapes)
from .zipsafe import SafeZip

MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 1 << 20
BUNDLED_DIR = Path(__file__).with_name("bundled")


def asset_arrays(avatar: Avatar, compressed: bool = True) -> dict[str, dict[str, np.ndarray]]:
    """The arrays of each asset file of ``avatar``'s package."""
    head, gs = avatar.head, avatar.gaussians
    out = {
        HEAD: {k: getattr(head, k) for k in HEAD_KEYS},
        GAUSSIANS: {k: getattr(gs, k) for k in GAUSSIAN_KEYS},
        IDLE: {"keyframes": avatar.idle},
    }
    if compressed:
        out[GAUSSIANS_COMPRESSED] = compress_gaussians(gs)
    if gs.sh is not None:
        out[SH] = sh_arrays(gs.sh)
    return out


def package_files(avatar: Avatar, compressed: bool = True) -> dict[str, bytes]:
    """Every file of the package (``manifest.json`` included) as bytes."""
    files: dict[str, bytes] = {}
    entries: dict[str, AssetEntry] = {}
    for name, arrays in asset_arrays(avatar, compressed).items():
        data = npz_bytes(arrays)
        files[name] = data
        entries[name] = AssetEntry(size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                                   arrays_sha256=arrays_digest(arrays))
    manifest = Manifest(
        id=avatar.id, name=avatar.name, motion_fps=avatar.motion_fps,
        expression_count=avatar.head.expression_count, vertex_count=avatar.head.vertex_count,
        face_count=int(avatar.head.faces.shape[0]), gaussian_count=avatar.gaussians.count,
        idle_frames=int(avatar.idle.shape[0]), camera=avatar.camera, assets=entries,
        sh_degree=avatar.gaussians.sh_degree,
    )
    files[MANIFEST] = manifest_json(manifest)
    return files


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; packages are meant to be shared and shipped
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_package(avatar: Avatar, out_dir: str | os.PathLike, compressed: bool = True) -> Manifest:
    """Write ``avatar`` as a package directory (each file replaced atomically, the manifest last)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = package_files(avatar, compressed)
    for name, data in files.items():
        if name != MANIFEST:
            _atomic_write(out / name, data)
    if not compressed:
        (out / GAUSSIANS_COMPRESSED).unlink(missing_ok=True)
    if SH not in files:
        (out / SH).unlink(missing_ok=True)
    _atomic_write(out / MANIFEST, files[MANIFEST])
    return parse_manifest(files[MANIFEST])


def write_package_zip(avatar: Avatar, out_zip: str | os.PathLike, compressed: bool = True) -> Manifest:
    """Write ``avatar`` as a zip package (files stored at the archive root)."""
    files = package_files(avatar, compressed)
    out = Path(out_zip)
    tmp = out.with_name(f".{out.name}.part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
        for name in [MANIFEST] + sorted(n for n in files if n != MANIFEST):
            zf.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), files[name])
    os.replace(tmp, out)
    return parse_manifest(files[MANIFEST])


def verify_file(manifest: Manifest, name: str, data: bytes, code: ErrorCode) -> None:
    """Check ``data`` against the manifest's size and sha256 for ``name``; ``AvatarError(code)`` if not."""
    entry = manifest.assets[name]
    if len(data) != entry.size:
        raise AvatarError(code, f"{name} of avatar {manifest.id!r} is {len(data)} bytes, the manifest says "
                                f"{entry.size}; the file is truncated or replaced — fetch the package again")
    digest = hashlib.sha256(data).hexdigest()
    if digest != entry.sha256:
        raise AvatarError(code, f"{name} of avatar {manifest.id!r} has sha256 {digest[:16]}…, the manifest says "
                                f"{entry.sha256[:16]}…; the file is corrupt — fetch the package again")


def needed_assets(manifest: Manifest, use_compressed_model: bool) -> list[str]:
    """The asset files a load reads (the compressed set when asked for and present, else the full one)."""
    gaussians = GAUSSIANS_COMPRESSED if use_compressed_model and GAUSSIANS_COMPRESSED in manifest.assets else GAUSSIANS
    return [HEAD, gaussians, IDLE] + ([SH] if manifest.sh_degree else [])


def expected_shapes(manifest: Manifest, name: str) -> dict[str, tuple[int, ...]] | None:
    """The array shapes the manifest implies for asset ``name`` (None: checked after reading)."""
    m = manifest
    if name == HEAD:
        return head_shapes(m.vertex_count, m.face_count, m.expression_count)
    if name in (GAUSSIANS, GAUSSIANS_COMPRESSED):
        return gaussian_shapes(m.gaussian_count)
    if name == IDLE:
        return idle_shapes(m.idle_frames, m.expression_count)
    if name == SH:
        return {"coefficients": (m.gaussian_count, (m.sh_degree + 1) ** 2, 3)}
    return None


def avatar_from_files(manifest: Manifest, read: Callable[[str], bytes], use_compressed_model: bool = False,
                      integrity_code: ErrorCode = ErrorCode.invalidAvatarMetadata) -> Avatar:
    """Build a validated :class:`Avatar` from the files ``read(name)`` returns."""
    arrays = {}
    for name in needed_assets(manifest, use_compressed_model):
        data = read(name)
        verify_file(manifest, name, data, integrity_code)
        arrays[name] = read_npz(data, name, expected_shapes(manifest, name))
        if arrays_digest(arrays[name]) != manifest.assets[name].arrays_sha256:
            raise bad(name, "array contents do not match the manifest's arrays_sha256")
    m = manifest
    head = head_from_arrays(arrays[HEAD], m.vertex_count, m.face_count, m.expression_count)
    if GAUSSIANS_COMPRESSED in arrays:
        gaussians = decompress_gaussians(arrays[GAUSSIANS_COMPRESSED], m.gaussian_count, m.face_count)
    else:
        gaussians = gaussians_from_arrays(arrays[GAUSSIANS], m.gaussian_count, m.face_count)
    if SH in arrays:
        gaussians = attrs.evolve(gaussians, sh=sh_from_arrays(arrays[SH], m.gaussian_count, m.sh_degree))
    idle = idle_from_arrays(arrays[IDLE], m.idle_frames, m.expression_count)
    return Avatar(id=m.id, name=m.name, head=head, gaussians=gaussians, idle=idle, camera=m.camera,
                  motion_fps=m.motion_fps, content_hash=m.content_hash,
                  compressed=GAUSSIANS_COMPRESSED in arrays)


def load_package(path: str | os.PathLike, use_compressed_model: bool = False) -> Avatar:
    """Load a package directory or ``.zip``; ``AvatarError(invalidAvatarMetadata)`` on any defect."""
    p = Path(path)
    # Every file is read only up to the size the manifest declares for it: a package cannot make
    # the loader read a device, block on a FIFO or inflate more than it announced.
    if p.is_dir():
        manifest = parse_manifest(read_regular(p / MANIFEST, MAX_MANIFEST_BYTES, str(p)))
        return avatar_from_files(manifest, lambda name: read_regular(p / name, manifest.assets[name].size, str(p)),
                                 use_compressed_model)
    if p.is_file():
        with SafeZip(str(p), str(p)) as zf:
            manifest = parse_manifest(zf.read(MANIFEST, MAX_MANIFEST_BYTES))
            return avatar_from_files(manifest, lambda name: zf.read(name, manifest.assets[name].size),
                                     use_compressed_model)
    raise AvatarError(ErrorCode.avatarIDUnrecognized,
                      f"no avatar package at {str(p)!r}: expected a directory or a .zip holding manifest.json")


def bundled_ids() -> list[str]:
    """Ids of the packages shipped inside the engine (``demo``)."""
    return sorted(d.name for d in BUNDLED_DIR.iterdir() if (d / MANIFEST).is_file())


def bundled_package_dir(avatar_id: str) -> Path | None:
    """Directory of the bundled package ``avatar_id``, or None."""
    if avatar_id not in bundled_ids():
        return None
    return BUNDLED_DIR / avatar_id


def load_bundled(avatar_id: str = "demo", use_compressed_model: bool = False) -> Avatar:
    """Load a package shipped with the engine (works offline, no SDK initialisation needed)."""
    d = bundled_package_dir(avatar_id)
    if d is None:
        raise AvatarError(ErrorCode.avatarIDUnrecognized,
                          f"no bundled avatar {avatar_id!r}; bundled avatars: {', '.join(bundled_ids()) or 'none'}")
    return load_package(d, use_compressed_model)
