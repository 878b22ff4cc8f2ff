"""Avatar-area fixtures: packages derived from the bundled demo, a real asset server, a private cache."""

from __future__ import annotations

import attrs
import pytest

from engine import AvatarSDK, Configuration
from engine.avatar.manager import AvatarManager
from engine.avatar.package import load_bundled, write_package

from .asset_server import AssetServer


@pytest.fixture(scope="session")
def demo_avatar():
    return load_bundled("demo")


@pytest.fixture(scope="session")
def remote_package(tmp_path_factory, demo_avatar):
    """The demo head re-published under another id, so it must come over HTTP."""
    path = tmp_path_factory.mktemp("packages") / "remote-head"
    write_package(attrs.evolve(demo_avatar, id="remote-head", name="Remote head"), path)
    return path


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    path = tmp_path / "cache"
    monkeypatch.setenv("FACECAST_CACHE_DIR", str(path))
    return path


@pytest.fixture
def manager(cache_dir):
    return AvatarManager()


@pytest.fixture
async def server(remote_package):
    srv = await AssetServer().start()
    srv.packages["remote-head"] = remote_package
    yield srv
    await srv.stop()


@pytest.fixture
async def sdk_on(server):
    """The SDK initialised against the test server."""
    await AvatarSDK.initialize("test-app", Configuration(driving_service_mode="backend",
                                                         custom_endpoint=server.base_url))
    return AvatarSDK
