"""A lock-free single-writer / single-reader ring of PCM16 samples.

The writer (the controller, on the app's thread) owns ``_write_pos`` and ``_flush_to``; the reader
(the device callback) owns ``_read_pos``. Positions are absolute sample counts that only grow, so
each side reads the other's index once and never needs a lock: a plain attribute store of an
``int`` is atomic under the GIL. The storage is allocated once; reading copies into the caller's
preallocated buffer.
"""

from __future__ import annotations

import numpy as np

_SCALE = 1.0 / 32768.0
NO_LIMIT = 1 << 62


class SampleRing:
    """``capacity`` int16 samples; positions count samples since the ring was made."""

    def __init__(self, capacity: int) -> None:
        if capacity <= 0:
            raise ValueError(f"ring capacity must be positive, not {capacity}")
        self.capacity = int(capacity)
        self._buf = np.zeros(self.capacity, dtype=np.int16)
        self._write_pos = 0  # writer-owned
        self._flush_to = 0  # writer-owned: the reader skips everything before it
        self._limit = NO_LIMIT  # writer-owned: the reader never passes it (strict sync)
        self._read_pos = 0  # reader-owned

    # -- writer side ------------------------------------------------------------------------

    @property
    def write_pos(self) -> int:
        return self._write_pos

    def free(self) -> int:
        return self.capacity - (self._write_pos - max(self._read_pos, self._flush_to))

    def write(self, samples: np.ndarray) -> int:
        """Copy as many of ``samples`` (int16) as fit; return how many were taken."""
        n = min(int(samples.shape[0]), self.free())
        if n <= 0:
            return 0
        start = self._write_pos % self.capacity
        first = min(n, self.capacity - start)
        self._buf[start:start + first] = samples[:first]
        if n > first:
            self._buf[:n - first] = samples[first:n]
        self._write_pos += n  # publish after the copy
        return n

    def flush(self) -> None:
        """Drop everything written so far; the reader skips it on its next read."""
        self._flush_to = self._write_pos

    def set_limit(self, position: int) -> None:
        """Let the reader consume up to ``position`` (exclusive) only."""
        self._limit = int(position)

    def clear_limit(self) -> None:
        self._limit = NO_LIMIT

    # -- reader side (device callback) ------------------------------------------------------

    @property
    def read_pos(self) -> int:
        return self._read_pos

    def skip_flushed(self) -> None:
        flush_to = self._flush_to
        if flush_to > self._read_pos:
            self._read_pos = flush_to

    def available(self) -> int:
        """Samples the reader may take now (bounded by the limit)."""
        end = min(self._write_pos, self._limit)
        return max(0, end - self._read_pos)

    def read_into(self, out: np.ndarray, n: int) -> int:
        """Copy up to ``n`` samples as float32 in [-1, 1) into ``out[:n]``; return the count taken."""
        k = min(n, self.available())
        if k <= 0:
            return 0
        start = self._read_pos % self.capacity
        first = min(k, self.capacity - start)
        np.multiply(self._buf[start:start + first], _SCALE, out=out[:first], casting="unsafe")
        if k > first:
            np.multiply(self._buf[:k - first], _SCALE, out=out[first:k], casting="unsafe")
        self._read_pos += k
        return k
