"""Live state shared through Redis by every process of a service: session leases and rate limits.

Both are Lua scripts, so each decision is one atomic round trip, and both read Redis's own clock
(``TIME``), so processes whose clocks disagree still agree on when a lease expires. Nothing here
must survive a Redis restart: leases are renewed every second and buckets refill on their own.
Durable facts (keys, revocations, usage) live in the store.
"""

from __future__ import annotations

import logging

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from .leases import LeasesUnavailable

log = logging.getLogger("facecast.server.redis")

PREFIX = "facecast:"

# KEYS[1] lease set of one app (member → expiry in ms); ARGV: lease id, limit, ttl ms.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl * 4)
return 1
"""

# KEYS[1] lease set; ARGV: ttl ms, lease ids...
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], now + ttl, ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], ttl * 4)
return #ARGV - 1
"""

_COUNT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])
"""

# KEYS[1] bucket hash; ARGV: rate per s, burst. Returns the wait in seconds as a string (0 = allowed).
_BUCKET = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1]) or burst
local ts = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return tostring(wait)
"""


def connect(url: str) -> aioredis.Redis:
    # Short timeouts: a Redis that does not answer must not hold an admission for long.
    return aioredis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0,
                                   health_check_interval=10)


class RedisLeases:
    def __init__(self, client: aioredis.Redis, ttl_s: float = 3.0) -> None:
        self._redis = client
        self._ttl_ms = int(ttl_s * 1000)
        self._acquire = client.register_script(_ACQUIRE)
        self._renew = client.register_script(_RENEW)
        self._count = client.register_script(_COUNT)

    @staticmethod
    def _key(app_id: str) -> str:
        return f"{PREFIX}leases:{app_id}"

    async def acquire(self, app_id: str, lease_id: str, limit: int) -> bool:
        try:
            return bool(await self._acquire(keys=[self._key(app_id)], args=[lease_id, limit, self._ttl_ms]))
        except RedisError as exc:
            raise LeasesUnavailable(f"Redis is unavailable: {exc}") from None

    async def release(self, app_id: str, lease_id: str) -> None:
        try:
            await self._redis.zrem(self._key(app_id), lease_id)
        except RedisError as exc:  # the lease expires by itself within ttl_s
            log.warning("could not release a session lease of app %s: %s", app_id, exc)

    async def renew(self, held: dict[str, list[str]]) -> None:
        if not held:
            return
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for app_id, lease_ids in held.items():
                    await self._renew(keys=[self._key(app_id)], args=[self._ttl_ms, *lease_ids], client=pipe)
                await pipe.execute()
        except RedisError as exc:
            log.warning("could not renew session leases: %s", exc)

    async def count(self, app_id: str) -> int:
        try:
            return int(await self._count(keys=[self._key(app_id)]))
        except RedisError as exc:
            raise LeasesUnavailable(f"Redis is unavailable: {exc}") from None

    async def close(self) -> None:
        await self._redis.aclose()


class RedisRateLimiter:
    def __init__(self, client: aioredis.Redis) -> None:
        self._redis = client
        self._bucket = client.register_script(_BUCKET)

    async def hit(self, bucket: str, rate: float, burst: float) -> float:
        try:
            return float(await self._bucket(keys=[f"{PREFIX}rate:{bucket}"], args=[rate, burst]))
        except RedisError as exc:
            # Failing open: a rate limit protects capacity, it is not an authorisation check.
            log.warning("rate limiter unavailable, allowing the request: %s", exc)
            return 0.0

    async def close(self) -> None:
        pass  # the client is shared with the leases, which close it
