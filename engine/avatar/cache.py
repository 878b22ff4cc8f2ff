"""The on-disk avatar cache: one directory per (id, content hash), filled atomically.

Layout under the cache root (``$FACECAST_CACHE_DIR``, else ``$XDG_CACHE_HOME/facecast/avatars``, else
``~/.cache/facecast/avatars``)::

    <id>-<hash32>/           complete, verified package files; manifest.json is written last
    .staging/<entry>-<pid>-<rand>/   a download in progress (removed on success, failure or cancel)
    .locks/<entry>.lock      flock()ed while one process fills an entry; others wait, then reuse it

Only files that passed their size and sha256 check and whose arrays validated are moved into an entry,
so an interrupted or failed download never leaves a partial file where a later load would use it.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import time
from contextlib import asynccontextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX: fall back to atomic renames alone
    fcntl = None

from ..errors import AvatarError, ErrorCode

LOCK_TIMEOUT_S = 300.0


def default_cache_root() -> Path:
    env = os.environ.get("FACECAST_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "facecast" / "avatars"


def _cache_error(root: Path, exc: OSError) -> AvatarError:
    return AvatarError(ErrorCode.failedToDownloadAvatarAssets,
                       f"cannot use the avatar cache at {root} ({exc.strerror or exc}); make it writable or "
                       "point FACECAST_CACHE_DIR at a writable directory")


class DiskCache:
    def __init__(self, root: Path | None = None) -> None:
        self._root = root

    @property
    def root(self) -> Path:
        # Resolved on every use so FACECAST_CACHE_DIR set after import (tests, apps) is honoured.
        return self._root or default_cache_root()

    def entry_dir(self, avatar_id: str, content_hash: str) -> Path:
        return self.root / f"{avatar_id}-{content_hash[:32]}"

    @asynccontextmanager
    async def locked(self, entry: Path):
        """Hold the entry's lock file (polling, so the event loop keeps running) for the block."""
        locks = self.root / ".locks"
        try:
            locks.mkdir(parents=True, exist_ok=True)
            fd = os.open(locks / f"{entry.name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise _cache_error(self.root, exc) from None
        try:
            if fcntl is not None:
                deadline = time.monotonic() + LOCK_TIMEOUT_S
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if time.monotonic() > deadline:
                            raise AvatarError(ErrorCode.failedToDownloadAvatarAssets,
                                              f"another process has held the cache lock of {entry.name} for "
                                              f"{LOCK_TIMEOUT_S:.0f} s; try again or clear the cache") from None
                        await asyncio.sleep(0.05)
            yield
        finally:
            os.close(fd)  # closing releases the flock

    def new_staging(self, entry: Path) -> Path:
        """A fresh private directory for one download; call under the entry's lock."""
        staging_root = self.root / ".staging"
        try:
            staging_root.mkdir(parents=True, exist_ok=True)
            # Holding the lock means no live download of this entry: older staging dirs are leftovers
            # of a killed process.
            for stale in staging_root.glob(f"{entry.name}-*"):
                shutil.rmtree(stale, ignore_errors=True)
            path = staging_root / f"{entry.name}-{os.getpid()}-{secrets.token_hex(4)}"
            path.mkdir()
        except OSError as exc:
            raise _cache_error(self.root, exc) from None
        return path

    def commit(self, staging: Path, entry: Path, names: list[str]) -> None:
        """Move verified ``names`` from ``staging`` into ``entry``; ``manifest.json`` goes last."""
        try:
            entry.mkdir(parents=True, exist_ok=True)
            ordered = sorted(names, key=lambda n: n == "manifest.json")
            for name in ordered:
                os.replace(staging / name, entry / name)
        except OSError as exc:
            raise _cache_error(self.root, exc) from None

    def has(self, entry: Path, names: list[str]) -> bool:
        return (entry / "manifest.json").is_file() and all((entry / n).is_file() for n in names)

    def entries(self, avatar_id: str) -> list[Path]:
        """The entries of ``avatar_id`` whose manifest was written (so they were complete), newest first."""
        root = self.root
        if not root.is_dir():
            return []
        found = [p for p in root.glob(f"{avatar_id}-*") if (p / "manifest.json").is_file()]
        return sorted(found, key=lambda p: (p / "manifest.json").stat().st_mtime, reverse=True)

    def remove_entry(self, entry: Path) -> None:
        shutil.rmtree(entry, ignore_errors=True)

    def clear(self, avatar_id: str | None = None) -> None:
        """Remove the entries of ``avatar_id`` (every entry when None)."""
        root = self.root
        if not root.is_dir():
            return
        for path in root.iterdir():
            if path.name.startswith("."):
                continue
            if avatar_id is None or path.name.rsplit("-", 1)[0] == avatar_id:
                shutil.rmtree(path, ignore_errors=True)
