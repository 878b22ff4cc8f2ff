"""Real PostgreSQL and Redis for the scale-out tests, one of each per test session (a database per test)."""

from __future__ import annotations

import itertools

import pytest

from .services import Postgres, Redis, have, postgres_available

_db_names = itertools.count()


@pytest.fixture(scope="session")
def postgres():
    if not postgres_available():
        pytest.skip("PostgreSQL binaries not installed (apt-get install postgresql)")
    pg = Postgres()
    try:
        yield pg
    finally:
        pg.stop()


@pytest.fixture(scope="session")
def redis_server():
    if not have("redis-server"):
        pytest.skip("redis-server not installed (apt-get install redis-server)")
    server = Redis()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_dsn(postgres) -> str:
    """A fresh, empty database in the session's cluster."""
    return postgres.create_database(f"t{next(_db_names)}")


@pytest.fixture
def redis_url(redis_server) -> str:
    redis_server.flush()
    return redis_server.url
