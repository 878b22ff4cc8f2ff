"""Where the Motion Server keeps apps, keys, grants, avatar metadata, quotas and usage.

``open_store(url)`` picks the backend: ``postgresql://…`` (or ``postgres://…``) → PostgreSQL,
shared by every process of a service; anything else is a SQLite file path (``sqlite:///path``
or a plain path), the embedded default ``<data dir>/server.sqlite3``. Both implement
:class:`Store` (see its docstring for the rules) and are opened with ``await store.open()``,
which applies pending migrations.

Avatar package metadata (for hosted avatars): ``put_avatar(AvatarRecord)``, ``avatar(id)``,
``list_avatars()``, ``remove_avatar(id)``; grants stay separate (``grant`` / ``is_granted``).
"""

from __future__ import annotations

import os
from pathlib import Path

from .base import (ApiKeyInfo, AppInfo, AvatarRecord, LocalSetup, Quota, Store, StoreUnavailable, Usage,
                   hash_key)
from .sqlite import SQLiteStore

STORE_FILE = "server.sqlite3"


def default_data_dir() -> Path:
    """``$FACECAST_DATA_DIR``, else ``$XDG_DATA_HOME/facecast``, else ``~/.local/share/facecast``."""
    if os.environ.get("FACECAST_DATA_DIR"):
        return Path(os.environ["FACECAST_DATA_DIR"])
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "facecast"


def is_postgres_url(url: str | None) -> bool:
    return bool(url) and url.split(":", 1)[0] in ("postgresql", "postgres")


def open_store(url: str | None = None, data_dir: Path | str | None = None) -> Store:
    """The store named by ``url`` (unopened); None means ``<data dir>/server.sqlite3``."""
    if is_postgres_url(url):
        from .postgres import PostgresStore  # asyncpg is needed only for a shared store

        return PostgresStore(url)
    if url:
        return SQLiteStore(url.removeprefix("sqlite://") if url.startswith("sqlite://") else url)
    return SQLiteStore(Path(data_dir if data_dir is not None else default_data_dir()) / STORE_FILE)


__all__ = ["ApiKeyInfo", "AppInfo", "AvatarRecord", "LocalSetup", "Quota", "SQLiteStore", "Store",
           "StoreUnavailable", "Usage", "default_data_dir", "hash_key", "is_postgres_url", "open_store"]
