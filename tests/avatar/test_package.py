"""Package format: writing, loading a directory or zip, and refusing every kind of broken package."""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
import zipfile

import numpy as np
import pytest

from engine import AvatarError, ErrorCode
from engine.avatar.binding_frames import bind_to_world
from engine.avatar.manifest import parse_manifest
from engine.avatar.npzio import arrays_digest, npz_bytes, read_npz
from engine.avatar.package import BUNDLED_DIR, load_bundled, load_package, write_package, write_package_zip


def _invalid(fn, *args, match=None, code=ErrorCode.invalidAvatarMetadata):
    with pytest.raises(AvatarError) as info:
        fn(*args)
    assert info.value.code == code, info.value
    if match:
        assert match in info.value.message, info.value.message
    return info.value


@pytest.fixture
def package_dir(tmp_path):
    path = tmp_path / "pkg"
    shutil.copytree(BUNDLED_DIR / "demo", path)
    return path


def _rewrite_asset(pkg, name, arrays):
    """Replace an asset's arrays and fix its manifest entry, so only the content is wrong."""
    data = npz_bytes(arrays)
    (pkg / name).write_bytes(data)
    manifest = json.loads((pkg / "manifest.json").read_text())
    manifest["assets"][name] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                                "arrays_sha256": arrays_digest(arrays)}
    (pkg / "manifest.json").write_text(json.dumps(manifest))


def test_roundtrip_directory_and_zip(tmp_path, demo_avatar):
    m = write_package(demo_avatar, tmp_path / "dir")
    zipped = write_package_zip(demo_avatar, tmp_path / "demo.zip")
    a, b = load_package(tmp_path / "dir"), load_package(tmp_path / "demo.zip")
    assert a.content_hash == b.content_hash == m.content_hash == zipped.content_hash == demo_avatar.content_hash
    np.testing.assert_array_equal(a.head.expr_dirs, demo_avatar.head.expr_dirs)
    np.testing.assert_array_equal(b.gaussians.color, demo_avatar.gaussians.color)
    assert a.camera == demo_avatar.camera


def test_bundled_package_is_small_and_complete():
    sizes = {p.name: p.stat().st_size for p in (BUNDLED_DIR / "demo").iterdir() if p.suffix in (".npz", ".json")}
    assert set(sizes) == {"manifest.json", "head.npz", "gaussians.npz", "idle.npz", "gaussians_compressed.npz"}
    assert sum(sizes.values()) < 4 << 20
    assert sizes["gaussians_compressed.npz"] < 0.5 * sizes["gaussians.npz"]


def test_compressed_variant_matches_the_full_one(demo_avatar):
    c = load_bundled("demo", use_compressed_model=True)
    assert c.compressed and c.gaussians.count == demo_avatar.gaussians.count
    head = demo_avatar.head
    full = bind_to_world(head.v_template.astype(np.float64), head.faces, demo_avatar.gaussians.parent,
                         demo_avatar.gaussians.local_xyz.astype(np.float64),
                         demo_avatar.gaussians.local_rot.astype(np.float64),
                         demo_avatar.gaussians.local_log_scale.astype(np.float64))
    comp = bind_to_world(head.v_template.astype(np.float64), head.faces, c.gaussians.parent,
                         c.gaussians.local_xyz.astype(np.float64), c.gaussians.local_rot.astype(np.float64),
                         c.gaussians.local_log_scale.astype(np.float64))
    assert np.abs(full[0] - comp[0]).max() < 5e-5  # means within 0.05 mm
    assert np.abs(comp[2] / full[2] - 1).max() < 2e-3  # scales within 0.2 %
    assert np.abs(full[1] - comp[1]).max() < 0.03  # rotation matrices (int8 quaternions)
    assert np.abs(c.gaussians.color - demo_avatar.gaussians.color).max() <= 0.5 / 255 + 1e-6
    assert np.abs(c.gaussians.opacity - demo_avatar.gaussians.opacity).max() <= 0.5 / 255 + 1e-6


@pytest.mark.parametrize("edit, match", [
    (lambda m: m.update(format_version=2), "format_version 2 is not supported"),
    (lambda m: m.update(id="../x"), "'id' must be"),
    (lambda m: m.update(motion_fps=30), "'motion_fps' must be 25"),
    (lambda m: m.update(expression_count=101), "'expression_count' must be an integer in 0..100"),
    (lambda m: m["assets"].pop("head.npz"), "assets lack head.npz"),
    (lambda m: m["assets"].update({"evil.sh": m["assets"]["idle.npz"]}), "unknown assets ['evil.sh']"),
    (lambda m: m["camera"].update(fov="wide"), "camera.fov must be a number"),
    (lambda m: m["camera"].update(near=5.0, far=1.0), "camera.far (1.0) must be greater"),
    (lambda m: m["assets"]["idle.npz"].update(sha256="xyz"), "sha256 must be 64 lowercase hex digits"),
])
def test_bad_manifests(package_dir, edit, match):
    manifest = json.loads((package_dir / "manifest.json").read_text())
    edit(manifest)
    (package_dir / "manifest.json").write_text(json.dumps(manifest))
    _invalid(load_package, package_dir, match=match)


def test_manifest_must_be_json(package_dir):
    (package_dir / "manifest.json").write_text("{not json")
    _invalid(load_package, package_dir, match="not valid JSON")


@pytest.mark.parametrize("name, key, value, match", [
    ("head.npz", "weights", lambda a: a * 2, "every row summing to 1"),
    ("head.npz", "j_regressor", lambda a: a[:, :-1], "j_regressor must have shape"),
    ("head.npz", "faces", lambda a: a + 100000, "faces values must lie in"),
    ("head.npz", "parents", lambda a: np.array([-1, 0, 0, 1, 1]), "parents must be [-1, 0, 1, 1, 1]"),
    ("head.npz", "v_template", lambda a: np.where(np.arange(len(a))[:, None] == 7, np.nan, a), "NaN"),
    ("gaussians.npz", "opacity", lambda a: a + 1.5, "opacity must lie in [0, 1]"),
    ("gaussians.npz", "local_rot", lambda a: a * 3, "unit quaternions"),
    ("gaussians.npz", "parent", lambda a: a.astype(np.float32), "parent must be an integer array"),
    ("gaussians.npz", "color", lambda a: a[:10], "color must have shape"),
])
def test_bad_arrays(package_dir, name, key, value, match):
    arrays = read_npz((package_dir / name).read_bytes(), name)
    arrays[key] = value(arrays[key])
    _rewrite_asset(package_dir, name, arrays)
    _invalid(load_package, package_dir, match=match)


def test_degenerate_triangle_and_extra_arrays(package_dir):
    arrays = read_npz((package_dir / "head.npz").read_bytes(), "head.npz")
    faces = arrays["faces"].copy()
    faces[5] = [faces[5][0], faces[5][0], faces[5][1]]
    _rewrite_asset(package_dir, "head.npz", dict(arrays, faces=faces))
    _invalid(load_package, package_dir, match="degenerate")
    _rewrite_asset(package_dir, "head.npz", dict(arrays, extra=np.zeros(3)))
    _invalid(load_package, package_dir, match="unexpected extra")


def test_file_not_matching_its_manifest(package_dir):
    data = bytearray((package_dir / "idle.npz").read_bytes())
    data[-30] ^= 0xFF
    (package_dir / "idle.npz").write_bytes(bytes(data))
    _invalid(load_package, package_dir, match="sha256")
    (package_dir / "idle.npz").write_bytes(bytes(data[:100]))
    _invalid(load_package, package_dir, match="truncated")


def test_pickled_object_arrays_are_refused(package_dir):
    import io

    buf = io.BytesIO()
    np.save(buf, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w") as zf:
        zf.writestr("keyframes.npy", buf.getvalue())
    _invalid(read_npz, raw.getvalue(), "idle.npz", match="dtype object")


def _zip_with(path, members):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data)


@pytest.mark.parametrize("name", ["../escape.txt", "/etc/passwd", "a/../../b", "C:evil", "dir\\..\\x"])
def test_hostile_zip_member_names(tmp_path, name):
    files = {p.name: p.read_bytes() for p in (BUNDLED_DIR / "demo").iterdir() if p.suffix in (".npz", ".json")}
    files[name] = b"x"
    _zip_with(tmp_path / "evil.zip", files)
    _invalid(load_package, tmp_path / "evil.zip", match="unsafe member name")


def test_corrupt_zip(tmp_path, demo_avatar):
    write_package_zip(demo_avatar, tmp_path / "ok.zip")
    data = (tmp_path / "ok.zip").read_bytes()
    # Cut in half, the archive loses its directory (what is found instead are the stored .npz files'
    # own zip records, which hold no manifest); either way it is refused.
    (tmp_path / "cut.zip").write_bytes(data[: len(data) // 2])
    _invalid(load_package, tmp_path / "cut.zip")
    flipped = bytearray(data)
    at = data.find(b"head.npz") + 5000  # inside the stored head.npz member
    flipped[at] ^= 0xFF
    (tmp_path / "flipped.zip").write_bytes(bytes(flipped))
    _invalid(load_package, tmp_path / "flipped.zip", match="is corrupt (Bad CRC")
    (tmp_path / "noise.zip").write_bytes(b"PK\x03\x04" + bytes(200))
    _invalid(load_package, tmp_path / "noise.zip")


def test_zip_bomb_declared_sizes(tmp_path):
    """A member whose central-directory entry claims a 2 GiB expansion is refused before reading."""
    path = tmp_path / "bomb.zip"
    _zip_with(path, {"manifest.json": b"{}" * 50})
    data = bytearray(path.read_bytes())
    cd = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, cd + 24, 2 << 30)  # uncompressed size field
    path.write_bytes(bytes(data))
    _invalid(load_package, path, match="limit")


def test_missing_package_and_unknown_bundled(tmp_path):
    _invalid(load_package, tmp_path / "nothing", code=ErrorCode.avatarIDUnrecognized)
    _invalid(load_bundled, "nope", code=ErrorCode.avatarIDUnrecognized, match="bundled avatars: demo")


def test_manifest_parser_accepts_the_bundled_manifest():
    m = parse_manifest((BUNDLED_DIR / "demo" / "manifest.json").read_bytes())
    assert m.id == "demo" and m.motion_fps == 25 and m.expression_count == 50


def test_asset_listing(package_dir):
    from engine.avatar.listing import asset_listing

    listing = asset_listing(package_dir, "http://h/v1/assets/avatars/demo/files/")
    manifest = json.loads((package_dir / "manifest.json").read_text())
    assert listing["manifest"] == manifest
    assert listing["assets"]["head.npz"] == {"url": "http://h/v1/assets/avatars/demo/files/head.npz",
                                             "size": manifest["assets"]["head.npz"]["size"],
                                             "sha256": manifest["assets"]["head.npz"]["sha256"]}
    (package_dir / "idle.npz").unlink()
    _invalid(asset_listing, package_dir, "x", match="idle.npz is missing")
    _invalid(asset_listing, package_dir / "nope", "x", code=ErrorCode.avatarIDUnrecognized)
