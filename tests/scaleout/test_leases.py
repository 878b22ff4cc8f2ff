"""Session leases on a real Redis: the limit is atomic, renewals keep leases, a lapsed process's leases go."""

from __future__ import annotations

import asyncio

from engine.server.leases import LocalLeases
from engine.server.redis_live import RedisLeases, connect


async def test_redis_leases_hold_the_limit_and_lapse_unless_renewed(redis_url):
    client = connect(redis_url)
    leases, other = RedisLeases(client, ttl_s=1.0), RedisLeases(connect(redis_url), ttl_s=1.0)  # two processes
    try:
        results = await asyncio.gather(*(lease.acquire("app", f"s{i}", 3) for i, lease in
                                         enumerate([leases, other] * 5)))
        assert sum(results) == 3 and await leases.count("app") == 3  # never more than the limit
        held = [f"s{i}" for i, ok in enumerate(results) if ok]
        assert await leases.acquire("app", held[0], 3)  # re-acquiring one's own lease is not a new one
        mine, theirs = held[:1], held[1:]
        for _ in range(5):  # this process renews its lease; the other one "was killed" and does not
            await asyncio.sleep(0.3)
            await leases.renew({"app": mine})
        assert await leases.count("app") == 1
        await leases.release("app", mine[0])
        await leases.release("app", "never-held")
        assert await leases.count("app") == 0 and theirs
    finally:
        await leases.close()
        await other.close()


async def test_local_leases():
    leases = LocalLeases()
    assert await leases.acquire("a", "1", 1) and not await leases.acquire("a", "2", 1)
    assert await leases.acquire("a", "1", 1) and await leases.acquire("b", "1", 1)
    await leases.release("a", "1")
    assert await leases.count("a") == 0 and await leases.acquire("a", "2", 1)
