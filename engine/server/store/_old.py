"""The server's SQLite store: apps, API keys (hashed) and avatar grants, plus the token secret.

Every call is one indexed statement on a local file (microseconds), so handlers call it
directly on the event loop; a lock makes the one connection safe from CLI threads too.
API keys are 256-bit random strings, so a plain SHA-256 (no slow KDF) is enough to make a
stolen database useless; the key itself is shown once at creation and never stored or logged.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import sqlite3
import threading
import time
from pathlib import Path

import attrs

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS apps (app_id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY,
    app_id TEXT NOT NULL REFERENCES apps(app_id),
    key_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE TABLE IF NOT EXISTS grants (
    app_id TEXT NOT NULL REFERENCES apps(app_id),
    avatar_id TEXT NOT NULL,
    PRIMARY KEY (app_id, avatar_id)
);
"""
KEY_PREFIX = "fck"
_KEY_RE = re.compile(r"^fck_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
_APP_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def default_data_dir() -> Path:
    """``$FACECAST_DATA_DIR``, else ``$XDG_DATA_HOME/facecast``, else ``~/.local/share/facecast``."""
    if os.environ.get("FACECAST_DATA_DIR"):
        return Path(os.environ["FACECAST_DATA_DIR"])
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "facecast"


@attrs.frozen
class ApiKeyInfo:
    key_id: str
    app_id: str
    created_at: int
    revoked_at: int | None


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class Store:
    """apps / api_keys / grants in ``<data dir>/server.sqlite3``; ``close()`` releases the file."""

    def __init__(self, path: Path | str) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)

    @classmethod
    def open_default(cls) -> "Store":
        return cls(default_data_dir() / "server.sqlite3")

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def _run(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            if self._db is None:
                raise RuntimeError("the server store is closed")
            return self._db.execute(sql, args).fetchall()

    # -- secret ---------------------------------------------------------------------------------

    def token_secret(self) -> bytes:
        """The HMAC secret tokens are signed with, made on first use and kept in the store."""
        rows = self._run("SELECT value FROM meta WHERE name = 'token_secret'")
        if rows:
            return bytes(rows[0][0])
        self._run("INSERT OR IGNORE INTO meta VALUES ('token_secret', ?)", (secrets.token_bytes(32),))
        return bytes(self._run("SELECT value FROM meta WHERE name = 'token_secret'")[0][0])

    # -- apps -----------------------------------------------------------------------------------

    def create_app(self, name: str, app_id: str | None = None) -> str:
        app_id = app_id or f"app_{secrets.token_hex(8)}"
        if not _APP_ID_RE.match(app_id):
            raise ValueError(f"App ID {app_id!r} must be 1-64 letters, digits, '.', '_' or '-'")
        try:
            self._run("INSERT INTO apps VALUES (?, ?, ?)", (app_id, name, int(time.time())))
        except sqlite3.IntegrityError:
            raise ValueError(f"an app with ID {app_id!r} already exists") from None
        return app_id

    def app_exists(self, app_id: str) -> bool:
        return bool(self._run("SELECT 1 FROM apps WHERE app_id = ?", (app_id,)))

    def list_apps(self) -> list[tuple[str, str, int]]:
        return [tuple(r) for r in self._run("SELECT app_id, name, created_at FROM apps ORDER BY created_at, app_id")]

    # -- keys -----------------------------------------------------------------------------------

    def create_key(self, app_id: str) -> tuple[str, str]:
        """A new API key for ``app_id``: returns ``(key_id, key)``; the key is not recoverable later."""
        if not self.app_exists(app_id):
            raise ValueError(f"no app with ID {app_id!r}")
        key_id = secrets.token_hex(6)
        key = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
        self._run("INSERT INTO api_keys VALUES (?, ?, ?, ?, NULL)", (key_id, app_id, _hash_key(key), int(time.time())))
        return key_id, key

    def revoke_key(self, key_id: str) -> bool:
        with self._lock:
            if self._db is None:
                raise RuntimeError("the server store is closed")
            cur = self._db.execute("UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
                                   (int(time.time()), key_id))
            return cur.rowcount == 1

    def list_keys(self, app_id: str | None = None) -> list[ApiKeyInfo]:
        sql = "SELECT key_id, app_id, created_at, revoked_at FROM api_keys"
        rows = self._run(sql + " WHERE app_id = ? ORDER BY created_at", (app_id,)) if app_id else \
            self._run(sql + " ORDER BY created_at")
        return [ApiKeyInfo(*r) for r in rows]

    def app_for_key(self, key: str) -> str | None:
        """The App ID an active API key belongs to, or None (unknown, malformed or revoked)."""
        m = _KEY_RE.match(key or "")
        if not m:
            return None
        rows = self._run("SELECT key_hash, app_id FROM api_keys WHERE key_id = ? AND revoked_at IS NULL",
                         (m.group(1),))
        if not rows or not hmac.compare_digest(rows[0][0], _hash_key(key)):
            return None
        return rows[0][1]

    # -- grants ---------------------------------------------------------------------------------

    def grant(self, app_id: str, avatar_id: str) -> None:
        if not self.app_exists(app_id):
            raise ValueError(f"no app with ID {app_id!r}")
        self._run("INSERT OR IGNORE INTO grants VALUES (?, ?)", (app_id, avatar_id))

    def is_granted(self, app_id: str, avatar_id: str) -> bool:
        return bool(self._run("SELECT 1 FROM grants WHERE app_id = ? AND avatar_id = ?", (app_id, avatar_id)))

    def grants(self, app_id: str) -> list[str]:
        return [r[0] for r in self._run("SELECT avatar_id FROM grants WHERE app_id = ? ORDER BY avatar_id", (app_id,))]
