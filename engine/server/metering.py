"""Usage metering and quotas: sessions and audio seconds per app, against an optional balance.

A session is counted in the store when it is admitted (one atomic ``add_usage``, so processes
racing for an app's last session cannot both win); audio seconds are counted here as they arrive
and flushed to the store by the upkeep loop about twice a second, which also refreshes each live
app's totals and quota. A session whose app's audio balance runs out ends with
``insufficientBalance``; across processes the overrun is bounded by one flush interval of audio
per process. Deltas that fail to flush (the database is down) are kept and sent with the next
flush, so an outage delays metering and never loses it.
"""

from __future__ import annotations

import logging
from collections import defaultdict

import attrs

from .store import Quota, Store, StoreUnavailable, Usage

log = logging.getLogger("facecast.server.metering")


class Meter:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._pending: dict[str, float] = defaultdict(float)  # audio seconds not yet in the store
        self._usage: dict[str, Usage] = {}  # last totals read from the store
        self._quotas: dict[str, Quota] = {}

    async def admit(self, app_id: str) -> str | None:
        """Count one session for ``app_id``; the reason it is refused (balance used up), or None."""
        quota = await self._store.quota(app_id)
        self._quotas[app_id] = quota
        usage = await self._store.usage(app_id)
        reason = self._with_pending(usage).exceeds(quota, extra_sessions=1)
        if reason is not None:
            self._usage[app_id] = usage
            return reason
        usage = await self._store.add_usage(app_id, sessions=1)
        self._usage[app_id] = usage
        if quota.sessions is not None and usage.sessions > quota.sessions:  # another process took the last one
            self._usage[app_id] = await self._store.add_usage(app_id, sessions=-1)
            return f"the session quota of {quota.sessions} is used up"
        return None

    def _with_pending(self, usage: Usage) -> Usage:
        return attrs.evolve(usage, audio_seconds=usage.audio_seconds + self._pending.get(usage.app_id, 0.0))

    def add_audio(self, app_id: str, seconds: float) -> str | None:
        """Count ``seconds`` of audio; the reason the app's session must end (balance used up), or None."""
        self._pending[app_id] += seconds
        return self.over(app_id)

    def over(self, app_id: str) -> str | None:
        """Why ``app_id`` has no balance left (last known totals plus unflushed audio), or None."""
        quota = self._quotas.get(app_id)
        if quota is None or quota.audio_seconds is None:
            return None
        usage = self._with_pending(self._usage.get(app_id, Usage(app_id)))
        return usage.exceeds(attrs.evolve(quota, sessions=None))

    async def flush_app(self, app_id: str) -> None:
        """Write ``app_id``'s pending audio now (a session of it ended), so other processes see it at once;
        if the store is down it stays pending for the next periodic flush."""
        seconds = self._pending.pop(app_id, 0.0)
        if seconds <= 0:
            return
        try:
            self._usage[app_id] = await self._store.add_usage(app_id, audio_seconds=seconds)
        except StoreUnavailable:
            self._pending[app_id] += seconds

    async def flush(self, live_apps: set[str]) -> None:
        """Write pending audio, then refresh totals and quotas of the apps with live sessions."""
        for app_id in list(self._pending):
            seconds = self._pending.pop(app_id)
            if seconds <= 0:
                continue
            try:
                self._usage[app_id] = await self._store.add_usage(app_id, audio_seconds=seconds)
            except StoreUnavailable as exc:
                self._pending[app_id] += seconds
                log.warning("usage of app %s not flushed yet (%s); kept for the next flush", app_id, exc)
                return
        for app_id in live_apps:
            try:
                self._quotas[app_id] = await self._store.quota(app_id)
                self._usage[app_id] = await self._store.usage(app_id)
            except StoreUnavailable:
                return
        for app_id in [a for a in self._usage if a not in live_apps and a not in self._pending]:
            self._usage.pop(app_id, None)
            self._quotas.pop(app_id, None)

    def pending(self) -> dict[str, float]:
        return {a: s for a, s in self._pending.items() if s > 0}
