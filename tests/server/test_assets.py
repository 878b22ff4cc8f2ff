"""The App-ID-scoped asset endpoint, and AvatarManager downloading an avatar from it."""

from __future__ import annotations

import hashlib
import json
import shutil

import aiohttp
import pytest

from engine import AvatarSDK, Configuration
from engine.avatar.manager import AvatarManager
from engine.server.catalog import bundled_avatars_dir


def install_copy_of_demo(data_dir, new_id: str) -> None:
    """An operator-installed avatar: the demo package under another id (not bundled in the engine)."""
    target = data_dir / "avatars" / new_id
    shutil.copytree(bundled_avatars_dir() / "demo", target, ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
    manifest = json.loads((target / "manifest.json").read_text())
    manifest["id"] = new_id
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2))


async def get(url: str) -> tuple[int, bytes, str]:
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as resp:
            return resp.status, await resp.read(), resp.content_type


async def test_listing_and_files_for_a_granted_app(motion_server):
    status, body, ctype = await get(f"{motion_server.base_url}/v1/assets/avatars/demo?appId={motion_server.app_id}")
    assert status == 200 and ctype == "application/json"
    listing = json.loads(body)
    assert listing["manifest"]["id"] == "demo"
    assert {"head.npz", "gaussians.npz", "idle.npz"} <= set(listing["assets"])
    for name, entry in listing["assets"].items():
        status, data, _ = await get(entry["url"])
        assert status == 200 and len(data) == entry["size"]
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]


@pytest.mark.parametrize("path", [
    "/v1/assets/avatars/demo",  # no App ID
    "/v1/assets/avatars/demo?appId=someone-else",  # unknown app
    "/v1/assets/avatars/nobody?appId={app}",  # unknown avatar
    "/v1/assets/avatars/demo/files/head.npz",  # a file without the App ID
    "/v1/assets/avatars/demo/files/..%2F..%2Fserver%2Fapp.py?appId={app}",  # out of the package
    "/v1/assets/avatars/demo/files/nothing.npz?appId={app}",
])
async def test_refusals_are_404_in_the_error_shape(motion_server, path):
    status, body, _ = await get(motion_server.base_url + path.format(app=motion_server.app_id))
    assert status == 404
    [error] = json.loads(body)["errors"]
    assert error["status"] == 404 and error["message"]


async def test_app_without_a_grant_gets_404(motion_server):
    other = await motion_server.server.store.create_app("other")
    status, _, _ = await get(f"{motion_server.base_url}/v1/assets/avatars/demo?appId={other}")
    assert status == 404


async def test_avatar_manager_downloads_an_avatar_from_the_server(motion_server, tmp_path):
    install_copy_of_demo(motion_server.server.data_dir, "kiosk-head")
    await motion_server.server.store.grant(motion_server.app_id, "kiosk-head")
    await AvatarSDK.initialize(motion_server.app_id, Configuration(custom_endpoint=motion_server.base_url))
    manager = AvatarManager(cache_dir=tmp_path / "cache")
    avatar = await manager.load("kiosk-head")
    assert avatar.expression_count == 50
    assert any((tmp_path / "cache").rglob("head.npz"))
