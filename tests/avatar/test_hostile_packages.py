"""Hostile avatar packages (issue 13, item 5): each is refused with ``invalidAvatarMetadata`` and a reason,
without allocating what it declares, reading a device, or blocking on a FIFO."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import textwrap
import threading
import zipfile

import numpy as np
import pytest

from engine.avatar.manifest import parse_manifest
from engine.avatar.npzio import npz_bytes, read_npz
from engine.avatar.package import BUNDLED_DIR, load_package
from engine.errors import AvatarError, ErrorCode


@pytest.fixture
def package_dir(tmp_path):
    path = tmp_path / "pkg"
    shutil.copytree(BUNDLED_DIR / "demo", path)
    return path


def _npy_header(shape: tuple, descr: object = "<f4") -> bytes:
    header = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode("latin1")
    header += b" " * (-(10 + len(header) + 1) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header


def _npz(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _replace_file(pkg, name: str, data: bytes) -> None:
    """Swap an asset's bytes and fix its size and sha256 in the manifest, so only the content is hostile."""
    (pkg / name).write_bytes(data)
    manifest = json.loads((pkg / "manifest.json").read_text())
    manifest["assets"][name].update(size=len(data), sha256=hashlib.sha256(data).hexdigest())
    (pkg / "manifest.json").write_text(json.dumps(manifest))


def _refused(fn, *args, match: str) -> AvatarError:
    with pytest.raises(AvatarError) as info:
        fn(*args)
    assert info.value.code == ErrorCode.invalidAvatarMetadata, info.value
    assert match in info.value.message, info.value.message
    return info.value


def test_npy_header_declaring_a_huge_shape_is_refused_before_allocating():
    data = _npz({"keyframes.npy": _npy_header((2**40,)) + bytes(16)})
    _refused(read_npz, data, "idle.npz", match="declares shape (1099511627776,)")


def test_declared_shape_must_match_the_manifest(package_dir):
    manifest = json.loads((package_dir / "manifest.json").read_text())
    frames, dim = manifest["idle_frames"], 20 + manifest["expression_count"]
    bogus = np.zeros((frames, dim + 1), np.float32)
    _replace_file(package_dir, "idle.npz", npz_bytes({"keyframes": bogus}))
    _refused(load_package, package_dir, match=f"keyframes must have shape ({frames}, {dim})")


@pytest.mark.parametrize("descr", ["|O", "<U4", [("a", "<f4")]], ids=["object", "str", "record"])
def test_only_plain_numeric_dtypes_are_read(descr):
    header = _npy_header((1,), descr)
    _refused(read_npz, _npz({"keyframes.npy": header + bytes(16)}), "idle.npz", match="only bool, integer and float")


def test_deeply_nested_manifest_is_invalid_metadata(package_dir):
    deep = b"[" * 100_000 + b"]" * 100_000
    _refused(parse_manifest, deep, match="nested too deeply")
    (package_dir / "manifest.json").write_bytes(deep)
    _refused(load_package, package_dir, match="nested too deeply")


def test_asset_linked_to_dev_zero_is_refused(package_dir):
    (package_dir / "head.npz").unlink()
    os.symlink("/dev/zero", package_dir / "head.npz")
    _refused(load_package, package_dir, match="not a regular file")


def test_manifest_fifo_does_not_hang(package_dir):
    (package_dir / "manifest.json").unlink()
    os.mkfifo(package_dir / "manifest.json")
    result: list = []
    worker = threading.Thread(target=lambda: result.append(_try(load_package, package_dir)), daemon=True)
    worker.start()
    worker.join(10)
    if worker.is_alive():  # unblock the reader so the test run itself does not hang
        fd = os.open(package_dir / "manifest.json", os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        pytest.fail("reading a FIFO manifest blocked")
    assert isinstance(result[0], AvatarError) and "not a regular file" in result[0].message


def _try(fn, *args):
    try:
        return fn(*args)
    except Exception as exc:  # noqa: BLE001 - the test inspects what came out
        return exc


def _bomb_npz(path, member: str, shape: tuple) -> None:
    """An ``.npz`` whose member inflates to ``shape`` float32 zeros (~1000:1), written without holding it."""
    info = zipfile.ZipInfo(member, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "w", compresslevel=1) as zf, zf.open(info, "w", force_zip64=True) as fh:
        fh.write(_npy_header(shape))
        zero = bytes(1 << 20)
        for _ in range(int(np.prod(shape)) * 4 >> 20):
            fh.write(zero)


def test_deflate_bomb_is_refused_without_inflating(package_dir, tmp_path):
    """96 MB of zeros in well under 1 MB as head.npz's v_template: refused from its header, RSS stays low."""
    bomb = tmp_path / "bomb.npz"
    _bomb_npz(bomb, "v_template.npy", (8 * 2**20, 3))
    assert bomb.stat().st_size < 1 << 20
    _replace_file(package_dir, "head.npz", bomb.read_bytes())
    script = textwrap.dedent(f"""
        import resource, sys
        from engine.avatar.package import load_package
        from engine.errors import AvatarError
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            load_package({str(package_dir)!r})
        except AvatarError as exc:
            print(exc.code.value, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024, exc.message)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    code, grown_mb, message = out.stdout.split(" ", 2)
    assert code == "invalidAvatarMetadata" and "must have shape" in message, out.stdout + out.stderr
    assert int(grown_mb) < 48  # the inflated member alone would be 96 MB


def test_truncated_deflate_stream_is_invalid_metadata():
    good = npz_bytes({"keyframes": np.zeros((4, 20), np.float32)})
    raw = bytearray(good)
    start = raw.index(b"PK\x03\x04") + 30 + len("keyframes.npy")
    raw[start + 20:start + 40] = bytes(20)  # damage the deflate stream, keep the zip directory intact
    exc = _try(read_npz, bytes(raw), "idle.npz")
    assert isinstance(exc, AvatarError) and exc.code == ErrorCode.invalidAvatarMetadata, exc


async def test_manager_reports_a_malformed_package_as_invalid_metadata(sdk_on, server, manager, tmp_path):
    """Through ``AvatarManager`` the reason survives (it used to be 'failed unexpectedly')."""
    pkg = tmp_path / "huge-shape"
    shutil.copytree(BUNDLED_DIR / "demo", pkg)
    manifest = json.loads((pkg / "manifest.json").read_text())
    manifest["id"] = "huge-shape"
    (pkg / "manifest.json").write_text(json.dumps(manifest))
    _replace_file(pkg, "idle.npz", _npz({"keyframes.npy": _npy_header((2**40,)) + bytes(16)}))
    server.packages["huge-shape"] = pkg
    with pytest.raises(AvatarError) as info:
        await manager.load("huge-shape")
    assert info.value.code == ErrorCode.invalidAvatarMetadata and "not (1099511627776,)" in info.value.message
