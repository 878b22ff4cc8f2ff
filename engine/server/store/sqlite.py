"""The embedded backend: one SQLite file (``<data dir>/server.sqlite3``), for a single process.

Every call is a few indexed statements on a local file in WAL mode (microseconds), so it runs
inline on the event loop rather than paying a thread hop; the lock keeps one connection safe
if a caller does use threads. The file holds the token secret, so it is created 0600 in a 0700
directory, and an existing store that others can read is tightened with a warning.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import sqlite3
import stat
import threading
from pathlib import Path
from typing import Any

from .base import StoreUnavailable
from .sql import Body, SQLStore

log = logging.getLogger("facecast.server.store")


@functools.lru_cache(maxsize=256)
def _sqlite_params(sql: str) -> str:
    return re.sub(r"\$(\d+)", r"?\1", sql)


def _tighten(path: Path, mode: int) -> None:
    """Give ``path`` exactly ``mode`` (owner only), warning if others could read or write it."""
    current = stat.S_IMODE(path.stat().st_mode)
    if current & 0o077:
        log.warning("%s was accessible to other users (mode %o) and holds the token secret; "
                    "setting it to %o", path, current, mode)
    if current != mode:
        os.chmod(path, mode)


def secure_data_dir(path: Path) -> None:
    """Create the data directory 0700 (parents as usual), or tighten an existing one."""
    if not path.exists():
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, 0o700)  # mkdir's mode is filtered by the umask; this is exact
    _tighten(path, 0o700)


class _Conn:
    __slots__ = ("db",)

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    async def fetch(self, sql: str, *args: Any) -> list[tuple]:
        return self.db.execute(_sqlite_params(sql), args).fetchall()

    async def execute(self, sql: str, *args: Any) -> int:
        return self.db.execute(_sqlite_params(sql), args).rowcount


class SQLiteStore(SQLStore):
    TYPES = {"blob": "BLOB", "bigint": "INTEGER"}

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"

    async def open(self) -> None:
        if self._db is not None:
            return
        secure_data_dir(self.path.parent)
        if self.path.exists():
            for suffix in ("", "-wal", "-shm"):
                if Path(f"{self.path}{suffix}").exists():
                    _tighten(Path(f"{self.path}{suffix}"), 0o600)
        else:
            # SQLite gives its -wal and -shm files the database file's mode, so 0600 here covers them.
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA busy_timeout=2000")  # a CLI write in another process holds the lock for microseconds
        self._db = db
        await self._run(self._migrate, write=True)

    async def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    @property
    def closed(self) -> bool:
        return self._db is None

    async def _run(self, body: Body, write: bool = False) -> Any:
        with self._lock:
            db = self._db
            if db is None:
                raise RuntimeError("the server store is closed (call open() first)")
            try:
                db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            except sqlite3.OperationalError as exc:  # locked past busy_timeout, disk gone
                raise StoreUnavailable(f"the SQLite store {self.path} is unavailable: {exc}") from None
            try:
                result = await body(_Conn(db))
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return result
