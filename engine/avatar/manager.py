"""``AvatarManager``: load avatars by id (bundled, or from the region's asset endpoint), with progress,
verification, in-memory and on-disk caching, shared in-flight loads and cancellation (the seed's API)."""

from __future__ import annotations

import asyncio
import logging
import shutil
from pathlib import Path
from typing import Callable, ClassVar

import aiohttp

from ..enums import LoadProgressInfo, LoadProgressType
from ..errors import AvatarError, ErrorCode
from ..runtime import add_cleanup, runtime
from .avatar import Avatar
from .cache import DiskCache
from .fetch import download_file, fetch_listing, listing_url
from .files import read_regular
from .manifest import ID_PATTERN, Manifest, manifest_json, parse_manifest
from .package import (MANIFEST, MAX_MANIFEST_BYTES, avatar_from_files, bundled_ids, bundled_package_dir, load_package,
                      needed_assets)
from .progress import ProgressFanout, safe_call

log = logging.getLogger("facecast.avatar")

Key = tuple[str, bool]  # (avatar id, compressed)


class _LoadJob:
    def __init__(self, key: Key) -> None:
        self.key = key
        self.progress = ProgressFanout()
        self.task: asyncio.Task | None = None
        self.cancel_requested = False


class AvatarManager:
    """Loads and caches avatars. Use the singleton ``AvatarManager.shared``."""

    shared: ClassVar["AvatarManager"]
    metadata_timeout_s: float = 15.0
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 30.0  # longest silence tolerated while an asset streams
    # One load's downloads must finish within download_timeout_s + bytes / min_download_rate, so a
    # server trickling a byte at a time (which resets read_timeout_s each time) cannot hold a load.
    download_timeout_s: float = 60.0
    min_download_rate: float = 32 * 1024  # bytes per second
    stall_report_s: float = 5.0  # after this long without a byte, progress events say the download stalled

    def __init__(self, cache_dir: str | Path | None = None) -> None:
        self._memory: dict[Key, Avatar] = {}
        self._jobs: dict[Key, _LoadJob] = {}
        self._disk = DiskCache(Path(cache_dir) if cache_dir is not None else None)

    @property
    def cache_dir(self) -> Path:
        return self._disk.root

    # -- the seed's API ----------------------------------------------------------------------------

    async def load(self, avatar_id: str, on_progress: Callable[[LoadProgressInfo], object] | None = None,
                   use_compressed_model: bool = False) -> Avatar:
        """Load ``avatar_id``; concurrent loads of one id share one download, results are cached."""
        config = runtime().require_configuration("AvatarManager.load")
        _check_id(avatar_id)
        if on_progress is not None and not callable(on_progress):
            raise AvatarError(ErrorCode.failedToFetchAvatarMetadata,
                              f"on_progress must be a callable taking a LoadProgressInfo, not {on_progress!r}")
        if not isinstance(use_compressed_model, bool):
            raise AvatarError(ErrorCode.failedToFetchAvatarMetadata,
                              f"use_compressed_model must be True or False, not {use_compressed_model!r}")
        key = (avatar_id, use_compressed_model)
        cached = self._memory.get(key)
        if cached is not None:
            safe_call(on_progress, LoadProgressInfo(LoadProgressType.completed, 1.0))
            return cached
        loop = asyncio.get_running_loop()
        job = self._jobs.get(key)
        if job is None or job.task is None or job.task.done() or job.task.get_loop() is not loop:
            job = self._jobs[key] = _LoadJob(key)
            job.progress.join(on_progress)
            job.task = loop.create_task(self._run(job, config), name=f"facecast-load-{avatar_id}")
        else:
            job.progress.join(on_progress)
        try:
            return await asyncio.shield(job.task)
        except asyncio.CancelledError:
            me = asyncio.current_task()
            if job.cancel_requested and not (me is not None and me.cancelling()):
                raise AvatarError(ErrorCode.failedToDownloadAvatarAssets,
                                  f"loading avatar {avatar_id!r} was cancelled by cancel_load()") from None
            raise

    def cancel_load(self, avatar_id: str) -> bool:
        """Cancel a pending or running load of ``avatar_id``; True if there was one to cancel."""
        cancelled = False
        for key, job in list(self._jobs.items()):
            if key[0] == avatar_id and job.task is not None and not job.task.done():
                job.cancel_requested = True
                job.task.cancel()
                cancelled = True
        return cancelled

    def retrieve(self, avatar_id: str) -> Avatar | None:
        """The cached avatar (full model preferred), or None."""
        return self._memory.get((avatar_id, False)) or self._memory.get((avatar_id, True))

    def clear(self, avatar_id: str) -> None:
        """Forget ``avatar_id`` in memory and delete its files from the disk cache."""
        for key in [k for k in self._memory if k[0] == avatar_id]:
            del self._memory[key]
        if ID_PATTERN.match(avatar_id or ""):
            self._disk.clear(avatar_id)

    def clear_all(self, memory_only: bool = False) -> None:
        """Forget every cached avatar; also empty the disk cache unless ``memory_only``."""
        self._memory.clear()
        if not memory_only:
            self._disk.clear()

    # -- internals ---------------------------------------------------------------------------------

    async def _run(self, job: _LoadJob, config) -> Avatar:
        avatar_id = job.key[0]
        try:
            avatar = await self._resolve(job, config)
            self._memory[job.key] = avatar
            job.progress.completed()
            return avatar
        except asyncio.CancelledError:
            job.progress.failed(AvatarError(ErrorCode.failedToDownloadAvatarAssets,
                                            f"loading avatar {avatar_id!r} was cancelled"))
            raise
        except AvatarError as exc:
            job.progress.failed(exc)
            raise
        except Exception as exc:  # a bug or an unexpected OS error must still surface as AvatarError
            log.exception("loading avatar %r failed unexpectedly", avatar_id)
            err = AvatarError(ErrorCode.failedToDownloadAvatarAssets,
                              f"loading avatar {avatar_id!r} failed unexpectedly ({type(exc).__name__}: {exc})")
            job.progress.failed(err)
            raise err from exc
        finally:
            if self._jobs.get(job.key) is job:
                del self._jobs[job.key]

    async def _resolve(self, job: _LoadJob, config) -> Avatar:
        avatar_id, compressed = job.key
        if avatar_id in bundled_ids():
            job.progress.downloading(0.0)
            avatar = await asyncio.to_thread(load_package, bundled_package_dir(avatar_id), compressed)
            job.progress.downloading(1.0)
            return avatar
        url = listing_url(config.endpoints().assets, avatar_id, runtime().app_id or "")
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self.connect_timeout_s,
                                        sock_read=self.read_timeout_s)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            try:
                manifest, urls = await asyncio.wait_for(
                    fetch_listing(session, url, avatar_id, config.asset_origins), self.metadata_timeout_s)
            except TimeoutError:
                raise AvatarError(ErrorCode.failedToFetchAvatarMetadata,
                                  f"no metadata for avatar {avatar_id!r} from {url} within "
                                  f"{self.metadata_timeout_s:.0f} s") from None
            except AvatarError as exc:
                if exc.code != ErrorCode.failedToFetchAvatarMetadata:
                    raise
                offline = await asyncio.to_thread(self._newest_on_disk, avatar_id, compressed)
                if offline is None:
                    raise
                log.warning("using the cached copy of avatar %r: %s", avatar_id, exc.message)
                return offline
            job.progress.downloading(0.0)
            needed = needed_assets(manifest, compressed)
            entry = self._disk.entry_dir(avatar_id, manifest.content_hash)
            avatar = await asyncio.to_thread(self._from_disk, entry, manifest, needed, compressed)
            if avatar is None:
                async with self._disk.locked(entry):
                    # Another process may have filled the entry while we waited for the lock.
                    avatar = await asyncio.to_thread(self._from_disk, entry, manifest, needed, compressed)
                    if avatar is None:
                        avatar = await self._download(job, session, manifest, urls, needed, entry)
            job.progress.downloading(1.0)
            return avatar

    async def _download(self, job, session, manifest: Manifest, urls: dict[str, str], needed: list[str],
                        entry: Path) -> Avatar:
        compressed = job.key[1]
        missing = [n for n in needed if not (entry / n).is_file()]
        staging = self._disk.new_staging(entry)
        try:
            total = sum(manifest.assets[n].size for n in missing)
            done = 0
            loop = asyncio.get_running_loop()
            started = last_byte = loop.time()

            def on_bytes(count: int) -> None:
                nonlocal done, last_byte
                done += count
                last_byte = loop.time()
                job.progress.downloading(done / total)

            async def fetch_all() -> None:
                for name in missing:
                    asset = manifest.assets[name]
                    await download_file(session, urls[name], staging / name, name, asset.size, asset.sha256,
                                        on_bytes)

            budget = self.download_timeout_s + total / self.min_download_rate
            downloads = asyncio.ensure_future(fetch_all())
            try:
                while not downloads.done():
                    left = started + budget - loop.time()
                    await asyncio.wait([downloads], timeout=max(0.0, min(1.0, self.stall_report_s, left)))
                    silent = loop.time() - last_byte
                    if not downloads.done() and silent >= self.stall_report_s:
                        job.progress.stalled(silent)
                    if not downloads.done() and loop.time() - started > budget:
                        raise AvatarError(ErrorCode.failedToDownloadAvatarAssets,
                                          f"downloading avatar {manifest.id!r} did not finish within {budget:.0f} s "
                                          f"({done} of {total} bytes arrived); the server is too slow or stalled")
                downloads.result()
            finally:
                if not downloads.done():
                    downloads.cancel()
                    await asyncio.gather(downloads, return_exceptions=True)
            (staging / MANIFEST).write_bytes(manifest_json(manifest))

            def read(name: str) -> bytes:
                path = staging / name if (staging / name).is_file() else entry / name
                return read_regular(path, manifest.assets[name].size, f"avatar {manifest.id!r}",
                                    ErrorCode.failedToDownloadAvatarAssets)

            # Validate every array before anything reaches the cache entry.
            avatar = await asyncio.to_thread(avatar_from_files, manifest, read, compressed,
                                             ErrorCode.failedToDownloadAvatarAssets)
            self._disk.commit(staging, entry, missing + [MANIFEST])
            return avatar
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _from_disk(self, entry: Path, manifest: Manifest, needed: list[str], compressed: bool) -> Avatar | None:
        """The avatar from a complete cache entry, or None (a damaged entry is deleted)."""
        if not self._disk.has(entry, needed):
            return None
        try:
            return avatar_from_files(manifest, lambda n: read_regular(entry / n, manifest.assets[n].size, str(entry)),
                                     compressed, ErrorCode.failedToDownloadAvatarAssets)
        except (AvatarError, OSError) as exc:
            log.warning("discarding damaged cache entry %s: %s", entry, exc)
            self._disk.remove_entry(entry)
            return None

    def _newest_on_disk(self, avatar_id: str, compressed: bool) -> Avatar | None:
        """When the server cannot be reached: the most recently written complete entry of ``avatar_id``."""
        for entry in self._disk.entries(avatar_id):
            try:
                manifest = parse_manifest(read_regular(entry / MANIFEST, MAX_MANIFEST_BYTES, str(entry)))
            except (AvatarError, OSError):
                continue
            if manifest.id == avatar_id:
                avatar = self._from_disk(entry, manifest, needed_assets(manifest, compressed), compressed)
                if avatar is not None:
                    return avatar
        return None


def _check_id(avatar_id) -> None:
    if not isinstance(avatar_id, str) or not ID_PATTERN.match(avatar_id):
        raise AvatarError(ErrorCode.avatarIDUnrecognized,
                          f"avatar id must be 1-64 letters, digits, '_', '.' or '-', not {avatar_id!r}")


AvatarManager.shared = AvatarManager()
# AvatarSDK.cleanup() forgets the avatars in memory (the disk cache outlives the process).
add_cleanup(lambda: AvatarManager.shared.clear_all(memory_only=True))
