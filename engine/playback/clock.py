"""The audio clock: which stream sample is being heard now.

Each device callback puts its real samples first and silence after them, and knows the DAC
time its first sample reaches the speaker. So after every callback we know where the real
audio sent so far ends (a stream position) and when that end will be heard (a device time):
the position heard at ``now`` is that end minus what is still in flight, ``(end_time - now)·sr``.
Silence (pause, underrun, strict-sync gate) does not move the end, so the clock stops; device
latency is accounted for by the DAC time. Stamps are published with a sequence counter (a
seqlock) so the callback never waits for a reader and a reader never sees a torn stamp.
"""

from __future__ import annotations

import threading


class DeviceClock:
    """Written by the device callback only; read from any thread."""

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = int(sample_rate)
        self._stamp = [0, 0, 0.0]  # end position, end played count, end time (a list: cheapest to store into)
        self._seq = 0
        self._end_time = float("-inf")  # callback-owned
        self._last_position = 0
        self._last_played = 0
        # Readers (render tick, app, ticker) serialise among themselves so the clock they share
        # never steps back; the device callback never takes this lock.
        self._readers = threading.Lock()

    def stamp(self, position: int, played: int, real: int, dac_time: float) -> None:
        """Record one callback: ``real`` samples from stream ``position`` start at ``dac_time``."""
        if real > 0:
            self._end_time = dac_time + real / self.sample_rate
        elif self._end_time == float("-inf"):
            self._end_time = dac_time
        self._seq += 1
        s = self._stamp
        s[0] = position + real
        s[1] = played + real
        s[2] = self._end_time
        self._seq += 1

    def _read(self) -> tuple[int, int, float] | None:
        for _ in range(1000):
            before = self._seq
            if before & 1:
                continue
            p, q, e = self._stamp
            if self._seq == before:
                return (p, q, e) if before else None
        return None

    def now(self, device_now: float) -> tuple[int, int]:
        """(stream position, played samples) heard at device time ``device_now``; never decreasing."""
        stamp = self._read()
        if stamp is None:
            return self._last_position, self._last_played
        end_pos, end_played, end_time = stamp
        in_flight = max(0.0, (end_time - device_now) * self.sample_rate)
        with self._readers:
            pos = max(self._last_position, int(end_pos - in_flight + 1e-6))
            ply = max(self._last_played, int(end_played - in_flight + 1e-6))
            self._last_position, self._last_played = pos, ply
        return pos, ply
