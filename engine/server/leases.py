"""Per-app concurrent-session leases: the limit on how many sessions one App ID holds at once.

A lease is taken when a session is admitted and dropped when it ends. :class:`LocalLeases`
counts in this process (one ``facecast serve``); ``RedisLeases`` (``engine.server.redis_live``)
shares the count between processes, and its leases expire unless renewed, so the sessions of a
process that was killed are freed within ``ttl_s``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Protocol


class LeasesUnavailable(Exception):
    """The shared lease table cannot be reached; the session is refused rather than unlimited."""


class Leases(Protocol):
    """Rules: ``acquire`` is atomic against every process sharing the table (never more than
    ``limit`` live leases per app); ``release`` of an unknown lease is a no-op; ``renew`` is
    called about once a second with every lease this process holds and must never raise."""

    async def acquire(self, app_id: str, lease_id: str, limit: int) -> bool: ...

    async def release(self, app_id: str, lease_id: str) -> None: ...

    async def renew(self, held: dict[str, list[str]]) -> None: ...

    async def count(self, app_id: str) -> int: ...

    async def close(self) -> None: ...


class LocalLeases:
    def __init__(self) -> None:
        self._held: dict[str, set[str]] = defaultdict(set)

    async def acquire(self, app_id: str, lease_id: str, limit: int) -> bool:
        held = self._held[app_id]
        if lease_id not in held and len(held) >= limit:
            return False
        held.add(lease_id)
        return True

    async def release(self, app_id: str, lease_id: str) -> None:
        held = self._held.get(app_id)
        if held is not None:
            held.discard(lease_id)
            if not held:
                del self._held[app_id]

    async def renew(self, held: dict[str, list[str]]) -> None:
        pass  # nothing expires in one process: a lease ends with its session

    async def count(self, app_id: str) -> int:
        return len(self._held.get(app_id, ()))

    async def close(self) -> None:
        self._held.clear()
