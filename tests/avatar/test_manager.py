"""AvatarManager against a real aiohttp asset server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket

import pytest

from engine import AvatarError, AvatarSDK, Configuration, ErrorCode, LoadProgressType
from engine.avatar.manager import AvatarManager

from .asset_server import dumps

FULL_FILES = {"head.npz", "gaussians.npz", "idle.npz"}


def cache_files(cache_dir):
    """Every file under the cache except lock files (which are meant to stay)."""
    if not cache_dir.exists():
        return []
    return sorted(str(p.relative_to(cache_dir)) for p in cache_dir.rglob("*")
                  if p.is_file() and p.parent.name != ".locks")


async def test_progress_events_in_order_and_end_completed(sdk_on, server, manager, demo_avatar):
    events = []
    avatar = await manager.load("remote-head", events.append)
    kinds = [e.type for e in events]
    assert kinds[-1] == LoadProgressType.completed
    assert set(kinds[:-1]) == {LoadProgressType.downloading} and len(kinds) > 5
    fractions = [e.progress for e in events[:-1]]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert all(0.0 <= a <= b <= 1.0 for a, b in zip(fractions, fractions[1:]))
    assert avatar.id == "remote-head" and avatar.gaussians.count == demo_avatar.gaussians.count
    assert not avatar.compressed
    assert server.app_ids == ["test-app"]  # the listing is App-ID-scoped
    assert {p.rsplit("/", 1)[1] for p in server.requests if "/files/" in p} == FULL_FILES


async def test_second_load_is_a_cache_hit(sdk_on, server, manager, cache_dir):
    first = await manager.load("remote-head")
    before = sum(server.requests.values())
    events = []
    assert await manager.load("remote-head", events.append) is first
    assert sum(server.requests.values()) == before  # no request at all
    assert [e.type for e in events] == [LoadProgressType.completed]
    assert manager.retrieve("remote-head") is first
    # A fresh manager (another process) reuses the disk cache: metadata only, no asset download.
    other = AvatarManager()
    again = await other.load("remote-head")
    assert again.content_hash == first.content_hash
    assert server.asset_requests() == 3


async def test_concurrent_loads_share_one_download(sdk_on, server, manager):
    server.slow = 0.002
    events_a, events_b = [], []
    a, b = await asyncio.gather(manager.load("remote-head", events_a.append),
                                manager.load("remote-head", events_b.append))
    assert a is b
    assert server.requests["/v1/assets/avatars/remote-head"] == 1
    assert server.asset_requests() == 3
    assert events_a[-1].type == events_b[-1].type == LoadProgressType.completed


async def test_cancel_mid_download_leaves_no_partial_file(sdk_on, server, manager, cache_dir):
    server.slow = 0.05  # 16 KiB every 50 ms: the full model takes seconds
    started = asyncio.Event()
    events = []

    def progress(info):
        events.append(info)
        if info.type == LoadProgressType.downloading and info.progress > 0:
            started.set()

    load = asyncio.create_task(manager.load("remote-head", progress))
    await asyncio.wait_for(started.wait(), 10)
    assert any(p.endswith(".npz") for p in cache_files(cache_dir))  # bytes are landing in staging
    assert manager.cancel_load("remote-head") is True
    with pytest.raises(AvatarError) as info:
        await load
    assert info.value.code == ErrorCode.failedToDownloadAvatarAssets and "cancel" in info.value.message
    assert events[-1].type == LoadProgressType.failed
    assert cache_files(cache_dir) == []
    assert manager.retrieve("remote-head") is None
    assert manager.cancel_load("remote-head") is False


async def test_cancel_while_waiting_for_metadata(sdk_on, server, manager, cache_dir):
    server.listing_delay = 1.5
    load = asyncio.create_task(manager.load("remote-head"))
    while not server.listing_times:  # the request is pending at the server
        await asyncio.sleep(0.01)
    assert manager.cancel_load("remote-head") is True
    with pytest.raises(AvatarError, match="cancelled"):
        await asyncio.wait_for(load, 2.0)
    assert cache_files(cache_dir) == [] and manager.retrieve("remote-head") is None


@pytest.mark.parametrize("fault", ["truncate", "corrupt", "drop"])
async def test_damaged_download_fails_and_caches_nothing(sdk_on, server, manager, cache_dir, fault):
    getattr(server, fault).add("gaussians.npz")
    events = []
    with pytest.raises(AvatarError) as info:
        await manager.load("remote-head", events.append)
    assert info.value.code == ErrorCode.failedToDownloadAvatarAssets
    expected = {"truncate": "truncated", "corrupt": "sha256", "drop": "downloading gaussians.npz"}[fault]
    assert expected in info.value.message
    assert events[-1].type == LoadProgressType.failed and events[-1].error is info.value
    assert manager.retrieve("remote-head") is None
    assert cache_files(cache_dir) == []
    # Once the server is fixed the same manager loads it.
    getattr(server, fault).clear()
    assert (await manager.load("remote-head")).id == "remote-head"


async def test_wrong_array_shapes_are_invalid_metadata(sdk_on, server, manager, cache_dir, tmp_path, demo_avatar):
    import attrs
    import numpy as np

    from engine.avatar.package import write_package

    bad = attrs.evolve(demo_avatar, id="bad-shapes", idle=np.zeros((100, 7), np.float32))
    write_package(bad, tmp_path / "bad-shapes")  # hashes are right, the idle array is not
    server.packages["bad-shapes"] = tmp_path / "bad-shapes"
    with pytest.raises(AvatarError) as info:
        await manager.load("bad-shapes")
    assert info.value.code == ErrorCode.invalidAvatarMetadata
    assert "keyframes must have shape (100, 70)" in info.value.message
    assert manager.retrieve("bad-shapes") is None and cache_files(cache_dir) == []


async def test_unknown_id_is_unrecognized(sdk_on, server, manager):
    with pytest.raises(AvatarError) as info:
        await manager.load("nobody")
    assert info.value.code == ErrorCode.avatarIDUnrecognized and "nobody" in info.value.message


@pytest.mark.parametrize("status, body", [(200, b"<html>not json</html>"), (503, b'{"errors": []}'),
                                          (500, b"oops")])
async def test_bad_metadata_answers(sdk_on, server, manager, status, body):
    server.listing_override = (status, body)
    with pytest.raises(AvatarError) as info:
        await manager.load("remote-head")
    assert info.value.code == ErrorCode.failedToFetchAvatarMetadata


async def test_listing_arriving_in_pieces(sdk_on, server, manager):
    server.trickle_listing = True
    assert (await manager.load("remote-head")).id == "remote-head"


async def test_malformed_listing_is_invalid_metadata(sdk_on, server, manager):
    server.listing_override = (200, dumps({"manifest": {"format": "facecast.avatar"}, "assets": {}}))
    with pytest.raises(AvatarError) as info:
        await manager.load("remote-head")
    assert info.value.code == ErrorCode.invalidAvatarMetadata


async def test_server_down(manager):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    await AvatarSDK.initialize("test-app", Configuration(custom_endpoint=f"http://127.0.0.1:{port}"))
    events = []
    with pytest.raises(AvatarError) as info:
        await manager.load("remote-head", events.append)
    assert info.value.code == ErrorCode.failedToFetchAvatarMetadata
    assert f"127.0.0.1:{port}" in info.value.message
    assert events[-1].type == LoadProgressType.failed


async def test_disk_copy_is_used_when_the_server_is_gone(sdk_on, server, manager):
    first = await manager.load("remote-head")
    await server.stop()
    offline = await AvatarManager().load("remote-head")
    assert offline.content_hash == first.content_hash


async def test_compressed_model_downloads_only_the_compressed_set(sdk_on, server, manager, demo_avatar):
    avatar = await manager.load("remote-head", use_compressed_model=True)
    assert avatar.compressed
    files = {p.rsplit("/", 1)[1] for p in server.requests if "/files/" in p}
    assert files == {"head.npz", "gaussians_compressed.npz", "idle.npz"}
    full = await manager.load("remote-head")
    assert not full.compressed and manager.retrieve("remote-head") is full


async def test_clear_and_clear_all(sdk_on, server, manager, cache_dir):
    await manager.load("remote-head")
    assert any(p.startswith("remote-head-") for p in cache_files(cache_dir))
    manager.clear("remote-head")
    assert manager.retrieve("remote-head") is None and cache_files(cache_dir) == []
    await manager.load("remote-head")
    manager.clear_all(memory_only=True)
    assert manager.retrieve("remote-head") is None and cache_files(cache_dir)
    manager.clear_all()
    assert cache_files(cache_dir) == []


async def test_a_raising_progress_callback_does_not_break_the_load(sdk_on, server, manager):
    def explode(info):
        raise RuntimeError("app bug")

    assert (await manager.load("remote-head", explode)).id == "remote-head"


async def test_load_needs_the_sdk_and_a_valid_id(manager):
    with pytest.raises(AvatarError, match="AvatarSDK.initialize") as info:
        await manager.load("demo")
    assert info.value.code == ErrorCode.appIDUnrecognized
    await AvatarSDK.initialize("test-app", Configuration())
    for bad in ("", "../etc", "a b", None, "x" * 65):
        with pytest.raises(AvatarError) as info:
            await manager.load(bad)
        assert info.value.code == ErrorCode.avatarIDUnrecognized
    with pytest.raises(AvatarError, match="on_progress must be a callable"):
        await manager.load("demo", on_progress="print")
    with pytest.raises(AvatarError, match="use_compressed_model must be True or False"):
        await manager.load("demo", use_compressed_model="yes")


async def test_bundled_demo_loads_offline_through_the_shared_manager(cache_dir):
    # The SDK's default region points at a local server that is not running: the demo needs none.
    await AvatarSDK.initialize("test-app", Configuration())
    events = []
    avatar = await AvatarManager.shared.load("demo", events.append)
    assert avatar.id == "demo" and avatar.gaussians.count > 20000
    assert [e.type for e in events][-1] == LoadProgressType.completed
    assert await AvatarManager.shared.load("demo") is avatar
    AvatarSDK.cleanup()  # cleanup() forgets cached avatars
    assert AvatarManager.shared.retrieve("demo") is None


async def test_unusable_cache_directory(sdk_on, server, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the cache should be")
    monkeypatch.setenv("FACECAST_CACHE_DIR", str(blocker))
    with pytest.raises(AvatarError) as info:
        await AvatarManager().load("remote-head")
    assert info.value.code == ErrorCode.failedToDownloadAvatarAssets
    assert "FACECAST_CACHE_DIR" in info.value.message
