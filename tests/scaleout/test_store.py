"""The store contract, run against both backends: SQLite (embedded) and PostgreSQL (shared)."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import stat

import pytest

from engine.server.store import AvatarRecord, Quota, SQLiteStore, StoreUnavailable, Usage, open_store
from engine.server.store.migrations import MIGRATIONS


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "data" / "server.sqlite3")
    return request.getfixturevalue("pg_dsn")


@pytest.fixture
async def store(store_url):
    s = open_store(store_url)
    await s.open()
    try:
        yield s
    finally:
        await s.close()


async def test_apps_keys_and_grants(store):
    app = await store.create_app("kiosk", "kiosk-1")
    with pytest.raises(ValueError, match="already exists"):
        await store.create_app("again", "kiosk-1")
    with pytest.raises(ValueError, match="must be 1-64"):
        await store.create_app("bad", "../etc")
    with pytest.raises(ValueError, match="no app"):
        await store.create_key("nope")
    key_id, key = await store.create_key(app)
    info = await store.authenticate_key(key)
    assert (info.key_id, info.app_id, info.revoked_at) == (key_id, app, None)
    assert await store.authenticate_key(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert await store.authenticate_key("not a key") is None
    assert await store.revoke_key(key_id) and not await store.revoke_key(key_id)
    assert await store.authenticate_key(key) is None
    assert await store.revoked([key_id, "other"], []) == {key_id}
    await store.grant(app, "demo")
    await store.grant(app, "demo")  # idempotent
    assert await store.is_granted(app, "demo") and not await store.is_granted(app, "other")
    assert await store.grants(app) == ["demo"]
    assert [a.app_id for a in await store.list_apps()] == [app]
    assert [k.key_id for k in await store.list_keys(app)] == [key_id]
    assert len(await store.token_secret()) == 32 and await store.token_secret() == await store.token_secret()


async def test_revoked_tokens(store):
    app = await store.create_app("a")
    await store.revoke_token("jti-1", app, 2**40)
    await store.revoke_token("jti-1", app, 2**40)  # idempotent
    await store.revoke_token("jti-old", app, 1)  # already expired: may be pruned
    assert await store.revoked([], ["jti-1", "jti-2"]) == {"jti-1"}
    assert await store.revoked([], []) == set()


async def test_quota_and_usage_add_up_from_many_writers(store, store_url):
    app = await store.create_app("metered")
    assert await store.quota(app) == Quota() and await store.usage(app) == Usage(app)
    await store.set_quota(app, Quota(audio_seconds=12.5, sessions=3))
    assert await store.quota(app) == Quota(12.5, 3)
    with pytest.raises(ValueError, match="no app"):
        await store.set_quota("nope", Quota(1, 1))
    other = open_store(store_url)  # a second process's connection to the same store
    await other.open()
    try:
        await asyncio.gather(*(s.add_usage(app, sessions=1, audio_seconds=0.25)
                               for s in [store, other] * 20))
    finally:
        await other.close()
    usage = await store.usage(app)
    assert usage == Usage(app, 40, 10.0)
    assert usage.exceeds(Quota(12.5, 3)) == "the session quota of 3 is used up"
    assert Usage(app, 1, 12.5).exceeds(Quota(12.5, None)) == "the audio quota of 12.5 s is used up"
    assert Usage(app, 2, 1.0).exceeds(Quota(None, 3)) is None
    assert Usage(app, 2, 1.0).exceeds(Quota(None, 3), extra_sessions=2) is not None


async def test_avatar_package_metadata(store):
    record = AvatarRecord("kiosk-head", "Kiosk head", "ab" * 32, 123456, "/srv/avatars/kiosk-head", 1700000000)
    await store.put_avatar(record)
    assert await store.avatar("kiosk-head") == record
    await store.put_avatar(AvatarRecord("kiosk-head", "Kiosk head v2", "cd" * 32, 7, "/x", 1700000001))
    assert (await store.avatar("kiosk-head")).name == "Kiosk head v2"
    assert [r.avatar_id for r in await store.list_avatars()] == ["kiosk-head"]
    assert await store.remove_avatar("kiosk-head") and not await store.remove_avatar("kiosk-head")
    assert await store.avatar("kiosk-head") is None


async def test_provisioning_is_one_transaction_and_recovers_a_half_provisioned_store(store, monkeypatch):
    from engine.server.store.sql import SQLStore

    async def broken_grant(c, app_id, avatar_id):
        raise RuntimeError("killed between the key and the grant")
    with monkeypatch.context() as m:
        m.setattr(SQLStore, "_grant", staticmethod(broken_grant))
        with pytest.raises(RuntimeError):
            await store.provision_local("local", "demo")
    assert await store.list_apps() == [] and await store.list_keys() == []  # nothing half-written
    setup = await store.provision_local("local", "demo")
    assert not setup.recovered and await store.grants(setup.app_id) == ["demo"]
    assert (await store.authenticate_key(setup.api_key)).app_id == setup.app_id
    assert await store.provision_local("local", "demo") is None  # provisioned: left alone


async def test_half_provisioned_store_from_an_older_version_is_completed(store):
    # What an older, non-atomic version left when killed after its first commit: an app, no key.
    app = await store.create_app("local")
    setup = await store.provision_local("local", "demo")
    assert setup.recovered and setup.app_id == app
    assert await store.grants(app) == ["demo"] and (await store.authenticate_key(setup.api_key)).app_id == app
    assert await store.provision_local("local", "demo") is None


async def test_migrations_apply_once_even_when_processes_start_together(store_url):
    stores = [open_store(store_url) for _ in range(3)]
    await asyncio.gather(*(s.open() for s in stores))
    try:
        assert {await s.schema_version() for s in stores} == {MIGRATIONS[-1][0]}
    finally:
        await asyncio.gather(*(s.close() for s in stores))


async def test_unreachable_postgres_is_store_unavailable():
    from tests.scaleout.services import free_port

    store = open_store(f"postgresql://facecast@127.0.0.1:{free_port()}/postgres")
    with pytest.raises(StoreUnavailable, match="cannot reach PostgreSQL"):
        await store.open()


# -- SQLite file specifics -------------------------------------------------------------------------

def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


async def test_sqlite_store_is_private_to_its_owner(tmp_path):
    data = tmp_path / "data"
    store = SQLiteStore(data / "server.sqlite3")
    await store.open()
    await store.create_app("a")  # writes go through the WAL
    try:
        assert _mode(data) == 0o700
        for name in ("server.sqlite3", "server.sqlite3-wal", "server.sqlite3-shm"):
            assert (data / name).exists() and _mode(data / name) == 0o600, name
    finally:
        await store.close()


async def test_an_existing_store_readable_by_others_is_tightened_with_a_warning(tmp_path, caplog):
    data = tmp_path / "data"
    store = SQLiteStore(data / "server.sqlite3")
    await store.open()
    await store.close()
    os.chmod(data, 0o755)
    os.chmod(data / "server.sqlite3", 0o644)
    with caplog.at_level(logging.WARNING, "facecast.server.store"):
        store = SQLiteStore(data / "server.sqlite3")
        await store.open()
        await store.close()
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert "accessible to other users" in warned and "server.sqlite3" in warned and str(data) in warned
    assert _mode(data) == 0o700 and _mode(data / "server.sqlite3") == 0o600


async def test_a_store_of_the_first_schema_upgrades_in_place(tmp_path):
    path = tmp_path / "server.sqlite3"
    db = sqlite3.connect(path)  # exactly what the first version created, with one app in it
    db.executescript(MIGRATIONS[0][1].format(blob="BLOB", bigint="INTEGER"))
    db.execute("INSERT INTO apps VALUES ('old-app', 'old', 1)")
    db.commit()
    db.close()
    store = SQLiteStore(path)
    await store.open()
    try:
        assert [a.app_id for a in await store.list_apps()] == ["old-app"]
        assert await store.schema_version() == MIGRATIONS[-1][0]
        await store.set_quota("old-app", Quota(sessions=1))
    finally:
        await store.close()
