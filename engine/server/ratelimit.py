"""Rate limits on the console API: token buckets per API key and per client address.

A refused request gets HTTP 429 with ``Retry-After`` (whole seconds, rounded up).
:class:`LocalRateLimiter` keeps buckets in this process; ``RedisRateLimiter``
(``engine.server.redis_live``) shares them between processes, so a client cannot multiply its
allowance by the number of processes behind the balancer.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from typing import Protocol

import attrs
from aiohttp import web


@attrs.frozen
class RateLimits:
    """Requests per second and burst size; a burst is what a client may send at once after a pause."""

    per_key_rps: float = 20.0
    per_key_burst: float = 40.0
    per_address_rps: float = 50.0
    per_address_burst: float = 100.0
    # Peers whose X-Forwarded-For names the client (the balancer); any other peer is the client.
    trusted_proxies: tuple[str, ...] = ()

    def __attrs_post_init__(self) -> None:
        for name in ("per_key_rps", "per_key_burst", "per_address_rps", "per_address_burst"):
            if not getattr(self, name) > 0:
                raise ValueError(f"RateLimits.{name} must be positive, not {getattr(self, name)!r}")
        for proxy in self.trusted_proxies:
            ipaddress.ip_network(proxy, strict=False)  # ValueError names a malformed entry


class RateLimiter(Protocol):
    async def hit(self, bucket: str, rate: float, burst: float) -> float:
        """Take one token from ``bucket``: 0 if allowed, else seconds until one is available.
        Must never raise: a limiter that cannot decide lets the request through."""

    async def close(self) -> None: ...


class LocalRateLimiter:
    """Buckets in a bounded LRU: an address seen once costs one entry until it is pushed out."""

    def __init__(self, max_buckets: int = 100_000) -> None:
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._max = max_buckets

    async def hit(self, bucket: str, rate: float, burst: float) -> float:
        now = time.monotonic()
        tokens, then = self._buckets.pop(bucket, (burst, now))
        tokens = min(burst, tokens + (now - then) * rate)
        retry = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            retry = (1 - tokens) / rate
        self._buckets[bucket] = (tokens, now)
        if len(self._buckets) > self._max:
            self._buckets.popitem(last=False)
        return retry

    async def close(self) -> None:
        self._buckets.clear()


def client_address(request: web.Request, trusted_proxies: tuple[str, ...]) -> str:
    """The client's address: the peer, or the last X-Forwarded-For hop when the peer is a trusted proxy."""
    peer = request.remote or ""
    forwarded = request.headers.get("X-Forwarded-For")
    if not forwarded or not trusted_proxies:
        return peer
    try:
        peer_ip = ipaddress.ip_address(peer)
    except ValueError:
        return peer
    if not any(peer_ip in ipaddress.ip_network(p, strict=False) for p in trusted_proxies):
        return peer
    return forwarded.rsplit(",", 1)[-1].strip() or peer


def retry_after_header(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(seconds)))}
