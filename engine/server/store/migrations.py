"""Versioned schema migrations, applied in order on start; each version runs once, in one transaction.

Version 1 is the schema of the first single-file store, written so that it is a no-op on such a
store (``IF NOT EXISTS``): an existing ``server.sqlite3`` upgrades in place. Never edit a version
that has shipped; add a new one. ``{blob}`` and ``{bigint}`` stand for the dialect's types.
"""

from __future__ import annotations

MIGRATIONS: list[tuple[int, str]] = [
    (1, """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value {blob} NOT NULL);
CREATE TABLE IF NOT EXISTS apps (app_id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at {bigint} NOT NULL);
CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY,
    app_id TEXT NOT NULL REFERENCES apps(app_id),
    key_hash TEXT NOT NULL,
    created_at {bigint} NOT NULL,
    revoked_at {bigint}
);
CREATE TABLE IF NOT EXISTS grants (
    app_id TEXT NOT NULL REFERENCES apps(app_id),
    avatar_id TEXT NOT NULL,
    PRIMARY KEY (app_id, avatar_id)
);
"""),
    (2, """
CREATE INDEX IF NOT EXISTS api_keys_app ON api_keys (app_id);
CREATE TABLE app_quotas (
    app_id TEXT PRIMARY KEY REFERENCES apps(app_id),
    audio_ms {bigint},
    sessions {bigint}
);
CREATE TABLE app_usage (
    app_id TEXT PRIMARY KEY REFERENCES apps(app_id),
    sessions {bigint} NOT NULL DEFAULT 0,
    audio_ms {bigint} NOT NULL DEFAULT 0
);
CREATE TABLE revoked_tokens (
    token_id TEXT PRIMARY KEY,
    app_id TEXT NOT NULL,
    expires_at {bigint} NOT NULL
);
CREATE TABLE avatars (
    avatar_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    manifest_sha256 TEXT NOT NULL,
    size_bytes {bigint} NOT NULL,
    location TEXT NOT NULL,
    created_at {bigint} NOT NULL
);
"""),
]

BOOKKEEPING = "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at {bigint} NOT NULL)"


def statements(sql: str, types: dict[str, str]) -> list[str]:
    """One migration's statements for a dialect (``types`` fills ``{blob}`` / ``{bigint}``)."""
    return [s.strip() for s in sql.format(**types).split(";") if s.strip()]
