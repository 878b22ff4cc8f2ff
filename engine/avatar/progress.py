"""Fan-out of one load's progress to every caller that joined it (coalesced loads share one job)."""

from __future__ import annotations

import logging
from typing import Callable

from ..enums import LoadProgressInfo, LoadProgressType

log = logging.getLogger("facecast.avatar")


def safe_call(callback: Callable[[LoadProgressInfo], object] | None, info: LoadProgressInfo) -> None:
    """Run a user's progress callback; its exceptions are logged, never allowed to break the load."""
    if callback is None:
        return
    try:
        callback(info)
    except Exception:
        log.exception("an on_progress callback raised; the load continues")


class ProgressFanout:
    """``downloading`` events with a progress that never goes backwards, then one final event."""

    def __init__(self) -> None:
        self.listeners: list[Callable[[LoadProgressInfo], object]] = []
        self.fraction: float | None = None
        self._last_sent = -1.0

    def join(self, callback: Callable[[LoadProgressInfo], object] | None) -> None:
        if callback is None:
            return
        self.listeners.append(callback)
        if self.fraction is not None:  # a late joiner learns where the shared load stands
            safe_call(callback, LoadProgressInfo(LoadProgressType.downloading, self.fraction))

    def downloading(self, fraction: float) -> None:
        fraction = min(1.0, max(float(fraction), self.fraction or 0.0))
        self.fraction = fraction
        # At most ~100 events per load: skip steps smaller than 1 % except the first and the last.
        first = self._last_sent < 0
        final = fraction == 1.0 and self._last_sent < 1.0
        if first or final or fraction - self._last_sent >= 0.01:
            self._last_sent = fraction
            self._emit(LoadProgressInfo(LoadProgressType.downloading, fraction))

    def stalled(self, seconds: float) -> None:
        """Say that no byte has arrived for ``seconds`` (the fraction stays where it was)."""
        self._emit(LoadProgressInfo(LoadProgressType.downloading, self.fraction or 0.0, stalled_s=float(seconds)))

    def completed(self) -> None:
        self._emit(LoadProgressInfo(LoadProgressType.completed, 1.0))

    def failed(self, error: BaseException) -> None:
        self._emit(LoadProgressInfo(LoadProgressType.failed, self.fraction, error))

    def _emit(self, info: LoadProgressInfo) -> None:
        for callback in list(self.listeners):
            safe_call(callback, info)
