"""The egress program: where each round's audio sits on one 48 kHz clock that runs with wall time.

Position ``p`` of the clock is heard (sent) at ``t0 + p / 48000``. Peers read it in 20 ms frames
on one grid (multiples of :data:`FRAME`), each from the moment it joined. A round is placed a
little ahead of the live position; its later chunks follow it back to back. A chunk that comes
after its place was already sent leaves a *gap*: the rest of the round moves to the next free
frame and the skipped span is reported, so a receiver can leave it out of the round (its clock
then stalls instead of drifting from the motion). Audio more than :data:`KEEP_S` behind the live
position is dropped, so memory is bounded by what is queued ahead.
"""

from __future__ import annotations

import collections
import time

import numpy as np

from ...rtc.framing import TRACK_RATE

FRAME = TRACK_RATE // 50  # 20 ms, the Opus frame the tracks send
LEAD = FRAME  # a round starts at least one frame after the live position, so its first frame is never half-sent
KEEP_S = 1.0


def align_up(position: int) -> int:
    return -(-position // FRAME) * FRAME


class Timeline:
    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._t0 = clock()
        self._segments: collections.deque[tuple[int, np.ndarray]] = collections.deque()  # (start, int16) sorted
        self.write_position: int | None = None  # where the current round's next sample goes
        self._end = 0  # one past the last queued sample

    def live(self) -> int:
        """The position being sent now."""
        return int((self._clock() - self._t0) * TRACK_RATE)

    def due(self, position: int) -> float:
        """The clock time at which ``position`` is sent."""
        return self._t0 + position / TRACK_RATE

    def place(self) -> int:
        """Start a round at the next free frame at least :data:`LEAD` ahead of the live position."""
        start = align_up(max(self.live() + LEAD, self._end))
        self.write_position = start
        return start

    def append(self, pcm: np.ndarray) -> tuple[int, int]:
        """Queue the current round's next samples; returns ``(position, gap)`` where ``gap`` samples were skipped."""
        if self.write_position is None:
            raise RuntimeError("append() before place()")
        at, gap = self.write_position, 0
        if len(pcm) == 0:
            return at, 0
        live = self.live()
        if at - at % FRAME <= live:  # its frame has gone out already (with silence where this chunk belongs)
            moved = align_up(live + LEAD)
            gap, at = moved - at, moved
        self._segments.append((at, np.ascontiguousarray(pcm, dtype=np.int16)))
        self.write_position = at + len(pcm)
        self._end = max(self._end, self.write_position)
        return at, gap

    def end_round(self) -> int:
        """The current round has no more audio; returns one past its last sample."""
        end = self.write_position if self.write_position is not None else self.live()
        self.write_position = None
        return end

    def cut(self, position: int | None = None) -> int:
        """Drop all audio from ``position`` (default: the next frame boundary ahead of live) on; returns that position."""
        at = align_up(self.live() + 1) if position is None else position
        kept = collections.deque()
        for start, pcm in self._segments:
            if start >= at:
                continue
            kept.append((start, pcm[:at - start] if start + len(pcm) > at else pcm))
        self._segments = kept
        self._end = min(self._end, at)
        if self.write_position is not None and self.write_position > at:
            self.write_position = None
        return at

    def read(self, position: int, out: np.ndarray) -> None:
        """Fill ``out`` with the audio at ``[position, position + len(out))`` (silence where none is queued)."""
        out[:] = 0
        stop = position + len(out)
        horizon = position - int(KEEP_S * TRACK_RATE)
        while self._segments and self._segments[0][0] + len(self._segments[0][1]) < horizon:
            self._segments.popleft()
        for start, pcm in self._segments:
            if start >= stop:
                break
            end = start + len(pcm)
            if end <= position:
                continue
            lo, hi = max(start, position), min(end, stop)
            out[lo - position:hi - position] = pcm[lo - start:hi - start]
