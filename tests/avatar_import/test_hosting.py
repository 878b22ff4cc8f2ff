"""Hosting: `facecast avatars add/list/remove` against a real Motion Server on 127.0.0.1, and an imported
avatar loaded by id through AvatarManager (progress, sha256, cache) exactly like the demo."""

from __future__ import annotations

import asyncio
import zipfile

import numpy as np
import pytest

from engine import AvatarError, AvatarSDK, Configuration, ErrorCode
from engine.avatar.manager import AvatarManager
from engine.cli import main
from engine.server import MotionServer

from tests.fixtures.server import provision_app


def _cli(data_dir, *argv):
    return main(["avatars", "--data-dir", str(data_dir), *argv])


async def _acli(data_dir, *argv):
    return await asyncio.to_thread(_cli, data_dir, *argv)  # the CLI runs its own event loop


async def test_add_load_by_id_list_remove(imported, tmp_path, capsys):
    avatar, package = imported
    data_dir = tmp_path / "server-data"
    app_id, _ = await provision_app(data_dir, "kiosk", [])
    assert await _acli(data_dir, "add", str(package), "--grant", app_id) == 0
    assert f"hosting {avatar.id!r}" in capsys.readouterr().out
    server = MotionServer(data_dir=data_dir)
    await server.start("127.0.0.1", 0)
    try:
        await AvatarSDK.initialize(app_id, Configuration(custom_endpoint=server.base_url))
        events = []
        loaded = await AvatarManager(cache_dir=tmp_path / "cache").load(avatar.id, on_progress=events.append)
        assert loaded.gaussians.sh_degree == 3 and loaded.content_hash == avatar.content_hash
        np.testing.assert_array_equal(loaded.gaussians.sh, avatar.gaussians.sh)
        assert any((tmp_path / "cache").rglob("sh.npz")) and events
        other = await server.store.create_app("other")
        await AvatarSDK.initialize(other, Configuration(custom_endpoint=server.base_url))
        with pytest.raises(AvatarError) as info:
            await AvatarManager(cache_dir=tmp_path / "cache2").load(avatar.id)
        assert info.value.code == ErrorCode.avatarIDUnrecognized
    finally:
        await server.stop()
    capsys.readouterr()
    assert await _acli(data_dir, "list") == 0
    listing = capsys.readouterr().out
    assert avatar.id in listing and app_id in listing
    assert await _acli(data_dir, "add", str(package)) == 1  # already hosted
    assert await _acli(data_dir, "remove", avatar.id) == 0
    assert not (data_dir / "avatars" / avatar.id).exists()
    assert await _acli(data_dir, "remove", avatar.id) == 1


def _tampered(src, dst, member, change):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            zout.writestr(info, change(data) if info.filename == member else data)
    return dst


@pytest.mark.parametrize("member, change, message", [
    ("sh.npz", lambda d: d[:-1] + bytes([d[-1] ^ 1]), "sha256"),
    ("idle.npz", lambda d: d + b"x", "bytes, over the"),
    ("manifest.json", lambda d: d.replace(b'"sh_degree": 3', b'"sh_degree": 7'), "sh_degree"),
])
def test_uploads_are_validated_like_downloads(imported, tmp_path, capsys, member, change, message):
    _, package = imported
    data_dir = tmp_path / "server-data"
    bad = _tampered(package, tmp_path / "bad.zip", member, change)
    assert _cli(data_dir, "add", str(bad)) == 1
    assert message in capsys.readouterr().err
    avatars = data_dir / "avatars"
    assert not avatars.exists() or not list(avatars.iterdir())  # nothing installed, no staging left behind


def test_hostile_zip_is_refused(tmp_path, capsys):
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", b"{}")
        zf.writestr("../../escape.npz", b"\0" * 10)
    assert _cli(tmp_path / "d", "add", str(bomb)) == 1
    assert "facecast avatars:" in capsys.readouterr().err
    assert not (tmp_path / "escape.npz").exists()
