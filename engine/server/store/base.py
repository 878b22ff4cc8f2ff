"""The store contract every backend keeps, and the values it hands out.

A store holds what must outlive a process and be the same for every process of one service:
apps, SHA-256 hashes of API keys (never the keys), avatar grants, avatar package metadata,
quotas, metered usage, revoked tokens and the token signing secret. Every method is a
coroutine; a backend that cannot reach its database raises :class:`StoreUnavailable`, which the
HTTP and WebSocket handlers turn into a 503 / ``SERVER_ERROR`` 14 instead of a crash.

API keys are 256-bit random strings, so a plain SHA-256 (no slow KDF) is enough to make a
stolen database useless; a key is shown once at creation and never stored or logged.
"""

from __future__ import annotations

import hashlib
import re
from typing import Protocol

import attrs

KEY_PREFIX = "fck"
KEY_RE = re.compile(r"^fck_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
APP_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class StoreUnavailable(Exception):
    """The database cannot be reached right now; the request may be retried later."""


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@attrs.frozen
class AppInfo:
    app_id: str
    name: str
    created_at: int


@attrs.frozen
class ApiKeyInfo:
    key_id: str
    app_id: str
    created_at: int
    revoked_at: int | None


@attrs.frozen
class Quota:
    """An app's balance: None means unlimited. Sessions count admissions, audio counts seconds received."""

    audio_seconds: float | None = None
    sessions: int | None = None


@attrs.frozen
class Usage:
    app_id: str
    sessions: int = 0
    audio_seconds: float = 0.0

    def exceeds(self, quota: Quota, extra_sessions: int = 0) -> str | None:
        """Why this usage (plus ``extra_sessions`` about to start) is over ``quota``, or None."""
        if quota.sessions is not None and self.sessions + extra_sessions > quota.sessions:
            return f"the session quota of {quota.sessions} is used up"
        if quota.audio_seconds is not None and self.audio_seconds >= quota.audio_seconds:
            return f"the audio quota of {quota.audio_seconds:g} s is used up"
        return None


@attrs.frozen
class AvatarRecord:
    """Metadata of an avatar package the service hosts (the files live in the asset storage)."""

    avatar_id: str
    name: str
    manifest_sha256: str  # SHA-256 of the package's manifest.json
    size_bytes: int  # all assets together
    location: str  # where the package lives (a directory or an object-store prefix)
    created_at: int = 0


@attrs.frozen
class LocalSetup:
    """What first-start provisioning made; ``api_key`` is shown once, only its hash is stored."""

    app_id: str
    key_id: str
    api_key: str
    recovered: bool = False  # an earlier, interrupted provisioning was completed


class Store(Protocol):
    """Rules every backend keeps (``tests/scaleout/test_store.py`` runs the same tests on each):

    - every write is one transaction; a crash leaves each operation applied whole or not at all;
    - ``create_key`` returns the key once; afterwards only ``authenticate_key`` can recognise it,
      by hash, in constant time;
    - ``add_usage`` adds deltas atomically (several processes meter one app at once) and returns
      the new totals;
    - methods raise ``ValueError`` with a user-facing message for bad input (unknown app, taken
      App ID) and :class:`StoreUnavailable` when the database is unreachable; nothing else.
    """

    async def open(self) -> None:
        """Connect and apply pending schema migrations (idempotent; safe from many processes at once)."""

    async def close(self) -> None: ...

    async def ping(self) -> None:
        """Return when the database answers; raise :class:`StoreUnavailable` otherwise (readiness)."""

    async def token_secret(self) -> bytes: ...

    async def create_app(self, name: str, app_id: str | None = None) -> str: ...

    async def app_exists(self, app_id: str) -> bool: ...

    async def list_apps(self) -> list[AppInfo]: ...

    async def create_key(self, app_id: str) -> tuple[str, str]: ...

    async def revoke_key(self, key_id: str) -> bool: ...

    async def list_keys(self, app_id: str | None = None) -> list[ApiKeyInfo]: ...

    async def authenticate_key(self, key: str) -> ApiKeyInfo | None:
        """The active key record ``key`` belongs to, or None (unknown, malformed or revoked)."""

    async def revoke_token(self, token_id: str, app_id: str, expires_at: int) -> None: ...

    async def revoked(self, key_ids: list[str], token_ids: list[str]) -> set[str]:
        """Which of these key ids and token ids are revoked (one query, for live sessions)."""

    async def grant(self, app_id: str, avatar_id: str) -> None: ...

    async def is_granted(self, app_id: str, avatar_id: str) -> bool: ...

    async def grants(self, app_id: str) -> list[str]: ...

    async def set_quota(self, app_id: str, quota: Quota) -> None: ...

    async def quota(self, app_id: str) -> Quota: ...

    async def add_usage(self, app_id: str, sessions: int = 0, audio_seconds: float = 0.0) -> Usage: ...

    async def usage(self, app_id: str) -> Usage: ...

    async def put_avatar(self, record: AvatarRecord) -> None:
        """Insert or replace the record of ``record.avatar_id``."""

    async def avatar(self, avatar_id: str) -> AvatarRecord | None: ...

    async def list_avatars(self) -> list[AvatarRecord]: ...

    async def remove_avatar(self, avatar_id: str) -> bool: ...

    async def provision_local(self, app_name: str, avatar_id: str) -> LocalSetup | None:
        """In one transaction: on an empty store create an app, its key and a grant of ``avatar_id``;
        on a store whose only app is a ``app_name`` app that never got a key (an interrupted
        provisioning by an older version) complete it; otherwise None."""
