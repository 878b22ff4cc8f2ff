"""The store's logic, written once in SQL both backends speak; a backend supplies only ``_run``.

Statements use ``$1``-style parameters (PostgreSQL's; the SQLite backend rewrites them to its
numbered ``?1``), ``ON CONFLICT`` and ``RETURNING`` (SQLite ≥ 3.35), so one body serves both.
Audio is kept in integer milliseconds: several processes add to one row and floats would drift.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from .base import (APP_ID_RE, KEY_PREFIX, KEY_RE, ApiKeyInfo, AppInfo, AvatarRecord, LocalSetup, Quota, Usage,
                   hash_key)
from .migrations import BOOKKEEPING, MIGRATIONS, statements


class Conn(Protocol):
    async def fetch(self, sql: str, *args: Any) -> list[tuple]: ...

    async def execute(self, sql: str, *args: Any) -> int:
        """Run one statement; the number of rows it changed."""


Body = Callable[[Conn], Awaitable[Any]]


def _now() -> int:
    return int(time.time())


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else int(round(seconds * 1000))


def _placeholders(values: list, start: int = 1) -> str:
    return ", ".join(f"${i}" for i in range(start, start + len(values)))


class SQLStore:
    """Implements :class:`~.base.Store` on top of ``_run(body, write)``, one transaction per call."""

    TYPES: dict[str, str] = {}

    async def _run(self, body: Body, write: bool = False) -> Any:
        raise NotImplementedError

    async def _migrate(self, conn: Conn) -> list[int]:
        """Apply pending migrations inside the caller's (locked) transaction; the versions applied."""
        await conn.execute(BOOKKEEPING.format(**self.TYPES))
        done = {v for (v,) in await conn.fetch("SELECT version FROM schema_migrations")}
        applied = []
        for version, sql in MIGRATIONS:
            if version in done:
                continue
            for statement in statements(sql, self.TYPES):
                await conn.execute(statement)
            await conn.execute("INSERT INTO schema_migrations VALUES ($1, $2)", version, _now())
            applied.append(version)
        return applied

    async def schema_version(self) -> int:
        rows = await self._run(lambda c: c.fetch("SELECT max(version) FROM schema_migrations"))
        return int(rows[0][0] or 0)

    async def ping(self) -> None:
        await self._run(lambda c: c.fetch("SELECT 1"))

    # -- secret ---------------------------------------------------------------------------------

    async def token_secret(self) -> bytes:
        async def body(c: Conn) -> bytes:
            await c.execute("INSERT INTO meta VALUES ('token_secret', $1) ON CONFLICT DO NOTHING",
                            secrets.token_bytes(32))
            return bytes((await c.fetch("SELECT value FROM meta WHERE name = 'token_secret'"))[0][0])
        return await self._run(body, write=True)

    # -- apps -----------------------------------------------------------------------------------

    @staticmethod
    async def _create_app(c: Conn, name: str, app_id: str | None) -> str:
        app_id = app_id or f"app_{secrets.token_hex(8)}"
        if not APP_ID_RE.match(app_id):
            raise ValueError(f"App ID {app_id!r} must be 1-64 letters, digits, '.', '_' or '-'")
        rows = await c.fetch("INSERT INTO apps VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING app_id",
                             app_id, name, _now())
        if not rows:
            raise ValueError(f"an app with ID {app_id!r} already exists")
        return app_id

    async def create_app(self, name: str, app_id: str | None = None) -> str:
        return await self._run(lambda c: self._create_app(c, name, app_id), write=True)

    async def app_exists(self, app_id: str) -> bool:
        return bool(await self._run(lambda c: c.fetch("SELECT 1 FROM apps WHERE app_id = $1", app_id)))

    async def list_apps(self) -> list[AppInfo]:
        rows = await self._run(lambda c: c.fetch("SELECT app_id, name, created_at FROM apps "
                                                 "ORDER BY created_at, app_id"))
        return [AppInfo(*r) for r in rows]

    # -- keys -----------------------------------------------------------------------------------

    @staticmethod
    async def _create_key(c: Conn, app_id: str) -> tuple[str, str]:
        if not await c.fetch("SELECT 1 FROM apps WHERE app_id = $1", app_id):
            raise ValueError(f"no app with ID {app_id!r}")
        key_id = secrets.token_hex(6)
        key = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
        await c.execute("INSERT INTO api_keys VALUES ($1, $2, $3, $4, NULL)", key_id, app_id, hash_key(key), _now())
        return key_id, key

    async def create_key(self, app_id: str) -> tuple[str, str]:
        return await self._run(lambda c: self._create_key(c, app_id), write=True)

    async def revoke_key(self, key_id: str) -> bool:
        return await self._run(lambda c: c.execute(
            "UPDATE api_keys SET revoked_at = $1 WHERE key_id = $2 AND revoked_at IS NULL", _now(), key_id),
            write=True) == 1

    async def list_keys(self, app_id: str | None = None) -> list[ApiKeyInfo]:
        sql = "SELECT key_id, app_id, created_at, revoked_at FROM api_keys"
        rows = await self._run(lambda c: c.fetch(sql + " WHERE app_id = $1 ORDER BY created_at", app_id)
                               if app_id else c.fetch(sql + " ORDER BY created_at"))
        return [ApiKeyInfo(*r) for r in rows]

    async def authenticate_key(self, key: str) -> ApiKeyInfo | None:
        m = KEY_RE.match(key or "")
        if not m:
            return None
        rows = await self._run(lambda c: c.fetch(
            "SELECT key_hash, key_id, app_id, created_at FROM api_keys WHERE key_id = $1 AND revoked_at IS NULL",
            m.group(1)))
        if not rows or not hmac.compare_digest(rows[0][0], hash_key(key)):
            return None
        return ApiKeyInfo(rows[0][1], rows[0][2], rows[0][3], None)

    async def revoke_token(self, token_id: str, app_id: str, expires_at: int) -> None:
        async def body(c: Conn) -> None:
            # Expired entries can go: an expired token is refused anyway.
            await c.execute("DELETE FROM revoked_tokens WHERE expires_at < $1", _now())
            await c.execute("INSERT INTO revoked_tokens VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                            token_id, app_id, int(expires_at))
        await self._run(body, write=True)

    async def revoked(self, key_ids: list[str], token_ids: list[str]) -> set[str]:
        key_ids, token_ids = sorted(set(key_ids)), sorted(set(token_ids))
        if not key_ids and not token_ids:
            return set()

        async def body(c: Conn) -> set[str]:
            out: set[str] = set()
            if key_ids:
                out |= {r[0] for r in await c.fetch(f"SELECT key_id FROM api_keys WHERE revoked_at IS NOT NULL "
                                                    f"AND key_id IN ({_placeholders(key_ids)})", *key_ids)}
            if token_ids:
                out |= {r[0] for r in await c.fetch(f"SELECT token_id FROM revoked_tokens WHERE token_id IN "
                                                    f"({_placeholders(token_ids)})", *token_ids)}
            return out
        return await self._run(body)

    # -- grants ---------------------------------------------------------------------------------

    @staticmethod
    async def _grant(c: Conn, app_id: str, avatar_id: str) -> None:
        if not await c.fetch("SELECT 1 FROM apps WHERE app_id = $1", app_id):
            raise ValueError(f"no app with ID {app_id!r}")
        await c.execute("INSERT INTO grants VALUES ($1, $2) ON CONFLICT DO NOTHING", app_id, avatar_id)

    async def grant(self, app_id: str, avatar_id: str) -> None:
        await self._run(lambda c: self._grant(c, app_id, avatar_id), write=True)

    async def is_granted(self, app_id: str, avatar_id: str) -> bool:
        return bool(await self._run(lambda c: c.fetch(
            "SELECT 1 FROM grants WHERE app_id = $1 AND avatar_id = $2", app_id, avatar_id)))

    async def grants(self, app_id: str) -> list[str]:
        rows = await self._run(lambda c: c.fetch(
            "SELECT avatar_id FROM grants WHERE app_id = $1 ORDER BY avatar_id", app_id))
        return [r[0] for r in rows]

    # -- quotas and usage -----------------------------------------------------------------------

    async def set_quota(self, app_id: str, quota: Quota) -> None:
        async def body(c: Conn) -> None:
            if not await c.fetch("SELECT 1 FROM apps WHERE app_id = $1", app_id):
                raise ValueError(f"no app with ID {app_id!r}")
            await c.execute("INSERT INTO app_quotas VALUES ($1, $2, $3) ON CONFLICT (app_id) DO UPDATE SET "
                            "audio_ms = excluded.audio_ms, sessions = excluded.sessions",
                            app_id, _ms(quota.audio_seconds), quota.sessions)
        await self._run(body, write=True)

    async def quota(self, app_id: str) -> Quota:
        rows = await self._run(lambda c: c.fetch("SELECT audio_ms, sessions FROM app_quotas WHERE app_id = $1",
                                                 app_id))
        if not rows:
            return Quota()
        audio_ms, sessions = rows[0]
        return Quota(None if audio_ms is None else audio_ms / 1000, None if sessions is None else int(sessions))

    async def add_usage(self, app_id: str, sessions: int = 0, audio_seconds: float = 0.0) -> Usage:
        rows = await self._run(lambda c: c.fetch(
            "INSERT INTO app_usage VALUES ($1, $2, $3) ON CONFLICT (app_id) DO UPDATE SET "
            "sessions = app_usage.sessions + excluded.sessions, audio_ms = app_usage.audio_ms + excluded.audio_ms "
            "RETURNING sessions, audio_ms", app_id, int(sessions), _ms(audio_seconds)), write=True)
        return Usage(app_id, int(rows[0][0]), rows[0][1] / 1000)

    async def usage(self, app_id: str) -> Usage:
        rows = await self._run(lambda c: c.fetch("SELECT sessions, audio_ms FROM app_usage WHERE app_id = $1",
                                                 app_id))
        return Usage(app_id, int(rows[0][0]), rows[0][1] / 1000) if rows else Usage(app_id)

    # -- avatar package metadata ----------------------------------------------------------------

    async def put_avatar(self, record: AvatarRecord) -> None:
        r = record
        await self._run(lambda c: c.execute(
            "INSERT INTO avatars VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (avatar_id) DO UPDATE SET "
            "name = excluded.name, manifest_sha256 = excluded.manifest_sha256, size_bytes = excluded.size_bytes, "
            "location = excluded.location, created_at = excluded.created_at",
            r.avatar_id, r.name, r.manifest_sha256, int(r.size_bytes), r.location, int(r.created_at or _now())),
            write=True)

    _AVATAR_COLUMNS = "avatar_id, name, manifest_sha256, size_bytes, location, created_at"

    async def avatar(self, avatar_id: str) -> AvatarRecord | None:
        rows = await self._run(lambda c: c.fetch(
            f"SELECT {self._AVATAR_COLUMNS} FROM avatars WHERE avatar_id = $1", avatar_id))
        return AvatarRecord(*rows[0]) if rows else None

    async def list_avatars(self) -> list[AvatarRecord]:
        rows = await self._run(lambda c: c.fetch(f"SELECT {self._AVATAR_COLUMNS} FROM avatars ORDER BY avatar_id"))
        return [AvatarRecord(*r) for r in rows]

    async def remove_avatar(self, avatar_id: str) -> bool:
        return await self._run(lambda c: c.execute("DELETE FROM avatars WHERE avatar_id = $1", avatar_id),
                               write=True) == 1

    # -- first start ----------------------------------------------------------------------------

    async def _serialize_provisioning(self, c: Conn) -> None:
        """Make concurrent first starts take turns (SQLite's write transaction already does)."""

    async def provision_local(self, app_name: str, avatar_id: str) -> LocalSetup | None:
        async def body(c: Conn) -> LocalSetup | None:
            await self._serialize_provisioning(c)
            apps = await c.fetch("SELECT app_id, name FROM apps")
            if not apps:
                app_id = await self._create_app(c, app_name, None)
                recovered = False
            elif len(apps) == 1 and apps[0][1] == app_name and \
                    not await c.fetch("SELECT 1 FROM api_keys WHERE app_id = $1", apps[0][0]):
                app_id, recovered = apps[0][0], True
            else:
                return None
            key_id, key = await self._create_key(c, app_id)
            await self._grant(c, app_id, avatar_id)
            return LocalSetup(app_id, key_id, key, recovered)
        return await self._run(body, write=True)
