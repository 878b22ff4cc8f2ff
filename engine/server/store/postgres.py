"""The shared backend: PostgreSQL through an asyncpg connection pool, for many server processes.

Every process of a service opens the same database; migrations run under an advisory lock, so
processes starting together apply each version once. A lost connection (a database restart, a
failover) is retried a few times on a fresh connection before the call fails with
:class:`StoreUnavailable`. A write whose commit was acknowledged is durable; a write whose
acknowledgement was lost may be retried, which for ``add_usage`` can count one delta twice
(never lose it) — metering errs toward the app's quota, not the service's bill.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import asyncpg

from .base import StoreUnavailable
from .sql import Body, SQLStore

log = logging.getLogger("facecast.server.store")

MIGRATION_LOCK = 0x6661636563617374  # "facecast": one advisory lock id for schema changes
# What a dropped connection looks like: socket errors, asyncpg's connection errors, the server
# shutting down (57P01) or still starting (57P03), and a protocol left mid-operation by either.
_LOST = (OSError, asyncio.TimeoutError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError,
         asyncpg.exceptions.OperatorInterventionError, asyncpg.exceptions.InternalClientError)
RETRY_DELAYS_S = (0.1, 0.3, 0.9)


class _Conn:
    __slots__ = ("conn",)

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def fetch(self, sql: str, *args: Any) -> list[tuple]:
        return [tuple(r) for r in await self.conn.fetch(sql, *args)]

    async def execute(self, sql: str, *args: Any) -> int:
        status = await self.conn.execute(sql, *args)
        tail = status.rsplit(" ", 1)[-1]
        return int(tail) if tail.isdigit() else 0


class PostgresStore(SQLStore):
    TYPES = {"blob": "BYTEA", "bigint": "BIGINT"}

    def __init__(self, dsn: str, *, min_size: int = 1, max_size: int = 8) -> None:
        self.dsn = dsn
        self._sizes = (min_size, max_size)
        self._pool: asyncpg.Pool | None = None

    def __repr__(self) -> str:
        return "PostgresStore(<dsn hidden>)"  # a DSN may carry a password

    async def open(self) -> None:
        if self._pool is not None:
            return
        try:
            self._pool = await asyncpg.create_pool(self.dsn, min_size=self._sizes[0], max_size=self._sizes[1],
                                                   timeout=5, command_timeout=10)
        except _LOST as exc:
            raise StoreUnavailable(f"cannot reach PostgreSQL: {exc}") from None
        except asyncpg.PostgresError as exc:  # wrong database, role or password
            raise StoreUnavailable(f"PostgreSQL refused the connection: {exc}") from None

        async def migrate(c: _Conn) -> list[int]:
            await c.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            return await self._migrate(c)
        applied = await self._run(migrate, write=True)
        if applied:
            log.info("PostgreSQL store: applied schema migrations %s", applied)

    async def _serialize_provisioning(self, c: _Conn) -> None:
        # Several processes starting on one empty database must not each create a local app.
        await c.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK + 1)

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    @property
    def closed(self) -> bool:
        return self._pool is None

    async def _run(self, body: Body, write: bool = False) -> Any:
        if self._pool is None:
            raise RuntimeError("the server store is closed (call open() first)")
        for attempt, delay in enumerate((*RETRY_DELAYS_S, None)):
            try:
                async with self._pool.acquire() as conn:
                    try:
                        if not write:  # reads run as they come: no BEGIN/COMMIT round trips around them
                            return await body(_Conn(conn))
                        async with conn.transaction():
                            return await body(_Conn(conn))
                    except _LOST:
                        conn.terminate()  # never hand this connection out again: the pool opens a fresh one
                        raise
            except _LOST as exc:
                if delay is None:
                    raise StoreUnavailable(f"PostgreSQL is unavailable: {exc.__class__.__name__}: {exc}") from None
                log.info("PostgreSQL connection lost (%s); retry %d", exc.__class__.__name__, attempt + 1)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")
