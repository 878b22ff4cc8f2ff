"""A one-line progress bar for offline rendering: frames done, frames per second, time left."""

from __future__ import annotations

import math
import sys
import time
from typing import TextIO

BAR = 24  # characters of the bar itself; the whole line stays under 80 columns


def _clock(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60}:{seconds % 60:02d}"


class Progress:
    """``update(done)`` redraws ``[#####.....]  120/141 frames  31.2 fps  ETA 0:01`` in place.

    Redraws at most ``rate_hz`` times a second (a terminal is slow next to a 2 ms frame); when the stream
    is not a terminal (a log, a CI job) it writes a plain line every ``log_every_s`` instead. ``close()``
    ends the line. ``fps`` and the ETA use the frames since the first
    ``update``, so a slow first frame (JIT load, server start) does not skew the estimate for long.
    """

    def __init__(self, total: int, label: str = "frames", stream: TextIO | None = None, *, rate_hz: float = 8.0,
                 log_every_s: float = 5.0) -> None:
        self.total = max(int(total), 1)
        self.label = label
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._period = 1.0 / rate_hz if self.tty else log_every_s
        self._start: float | None = None
        self._first = 0
        self._last_draw = -math.inf
        self.done = 0

    def line(self, now: float) -> str:
        filled = min(BAR, BAR * self.done // self.total)
        text = f"[{'#' * filled}{'.' * (BAR - filled)}] {self.done:5d}/{self.total} {self.label}"
        elapsed = now - (self._start or now)
        counted = self.done - self._first
        if counted > 0 and elapsed > 0:
            fps = counted / elapsed
            text += f"  {fps:5.1f} fps  ETA {_clock(max(0, self.total - self.done) / fps)}"
        return text

    def update(self, done: int) -> None:
        now = time.perf_counter()
        if self._start is None:
            self._start, self._first = now, done
        self.done = done
        self.total = max(self.total, done)
        if now - self._last_draw >= self._period:
            self._last_draw = now
            self.stream.write("\r" + self.line(now) if self.tty else self.line(now) + "\n")
            self.stream.flush()

    def close(self) -> None:
        if self._start is not None:
            self.stream.write(("\r" if self.tty else "") + self.line(time.perf_counter()) + "\n")
            self.stream.flush()
            self._start = None
