"""The disk cache across processes: one download fills an entry, leftovers of killed downloads go away."""

from __future__ import annotations

import asyncio
import os
import sys

from engine.avatar.cache import DiskCache
from engine.avatar.manifest import parse_manifest

LOADER = """
import asyncio, sys
from engine import AvatarSDK, Configuration
from engine.avatar.manager import AvatarManager

async def main():
    await AvatarSDK.initialize("test-app", Configuration(custom_endpoint=sys.argv[1]))
    avatar = await AvatarManager().load("remote-head")
    print(avatar.content_hash)

asyncio.run(main())
"""


async def test_two_processes_share_one_download(server, cache_dir, remote_package):
    server.slow = 0.01  # the download takes over a second, so the two processes overlap
    env = dict(os.environ, FACECAST_CACHE_DIR=str(cache_dir))
    procs = [await asyncio.create_subprocess_exec(sys.executable, "-c", LOADER, server.base_url, env=env,
                                                  stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
             for _ in range(2)]
    results = [await asyncio.wait_for(p.communicate(), 120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [r[1].decode()[-2000:] for r in results]
    expected = parse_manifest((remote_package / "manifest.json").read_bytes()).content_hash
    assert [r[0].decode().strip() for r in results] == [expected, expected]
    assert server.requests["/v1/assets/avatars/remote-head"] == 2
    # Both asked for the listing before the first file finished: they really ran at the same time...
    assert max(server.listing_times) < min(server.file_done_times)
    assert server.asset_requests() == 3  # the second process waited on the lock, then used the entry
    entry = DiskCache(cache_dir).entry_dir("remote-head", expected)
    assert sorted(p.name for p in entry.iterdir()) == ["gaussians.npz", "head.npz", "idle.npz", "manifest.json"]
    assert not any((cache_dir / ".staging").iterdir())


async def test_leftovers_of_a_killed_download_are_removed(sdk_on, server, manager, cache_dir, remote_package):
    content = parse_manifest((remote_package / "manifest.json").read_bytes()).content_hash
    entry = DiskCache(cache_dir).entry_dir("remote-head", content)
    stale = cache_dir / ".staging" / f"{entry.name}-999999-dead"
    stale.mkdir(parents=True)
    (stale / "gaussians.npz").write_bytes(b"half a download")
    await manager.load("remote-head")
    assert not stale.exists()
    assert not any((cache_dir / ".staging").iterdir())


async def test_a_damaged_cache_entry_is_replaced(sdk_on, server, manager, cache_dir):
    first = await manager.load("remote-head")
    entry = next(p for p in cache_dir.iterdir() if p.name.startswith("remote-head-"))
    (entry / "head.npz").write_bytes(b"bit rot")
    again = await type(manager)().load("remote-head")
    assert again.content_hash == first.content_hash
    assert server.requests["/v1/assets/files/remote-head/head.npz"] == 2  # fetched anew
