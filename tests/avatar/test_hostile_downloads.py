"""Hostile asset servers (issue 13, item 6 and the listing-origin finding): a download that trickles
has an overall deadline and its progress says it stalled; a listing cannot send the client to other hosts."""

from __future__ import annotations

import json

import pytest

from engine import AvatarSDK, Configuration
from engine.avatar.listing import asset_listing
from engine.enums import LoadProgressType
from engine.errors import AvatarError, ErrorCode

from .asset_server import AssetServer
from .test_manager import cache_files


async def test_a_trickling_download_hits_the_overall_deadline_and_reports_the_stall(sdk_on, server, manager,
                                                                                     cache_dir):
    server.slow = 0.4  # 16 KiB, then silence: each chunk resets a read timeout, never the deadline
    manager.download_timeout_s, manager.min_download_rate, manager.stall_report_s = 1.0, 1e12, 0.2
    events = []
    with pytest.raises(AvatarError) as info:
        await manager.load("remote-head", on_progress=events.append)
    assert info.value.code == ErrorCode.failedToDownloadAvatarAssets
    assert "did not finish within 1 s" in info.value.message and "bytes arrived" in info.value.message
    stalled = [e for e in events if e.type == LoadProgressType.downloading and e.stalled_s > 0]
    assert stalled and all(e.stalled_s >= 0.2 for e in stalled)
    assert events[-1].type == LoadProgressType.failed
    assert manager.retrieve("remote-head") is None and cache_files(cache_dir) == []


def _listing_on(other: AssetServer, package, avatar_id: str) -> bytes:
    return json.dumps(asset_listing(package, f"{other.base_url}/v1/assets/files/{avatar_id}")).encode()


async def test_asset_urls_on_another_origin_are_refused(sdk_on, server, manager, remote_package):
    other = await AssetServer().start()  # same host, another port: another origin
    try:
        other.packages["remote-head"] = remote_package
        server.listing_override = (200, _listing_on(other, remote_package, "remote-head"))
        with pytest.raises(AvatarError) as info:
            await manager.load("remote-head")
        assert info.value.code == ErrorCode.invalidAvatarMetadata
        assert "not on the listing's origin" in info.value.message and "asset_origins" in info.value.message
        assert other.asset_requests() == 0  # refused before any request went there
    finally:
        await other.stop()


async def test_an_origin_the_app_trusts_is_fetched_from(server, manager, remote_package):
    other = await AssetServer().start()
    try:
        other.packages["remote-head"] = remote_package
        server.listing_override = (200, _listing_on(other, remote_package, "remote-head"))
        await AvatarSDK.initialize("test-app", Configuration(driving_service_mode="backend",
                                                             custom_endpoint=server.base_url,
                                                             asset_origins=(other.base_url,)))
        assert (await manager.load("remote-head")).id == "remote-head"
        assert other.asset_requests() >= 3
    finally:
        await other.stop()


@pytest.mark.parametrize("bad", ["ftp://x", "https://cdn.example.com/path", "cdn.example.com", ""])
def test_asset_origins_must_be_origins(bad):
    with pytest.raises(ValueError, match="asset_origins"):
        Configuration(asset_origins=(bad,))
