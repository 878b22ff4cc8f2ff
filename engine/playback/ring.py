"""A lock-free single-writer / single-reader ring of audio samples (PCM16 in, float32 out).

The writer (the controller, on the app's thread) owns ``_write_pos`` and ``_flush_to``; the reader
(the device callback) owns ``_read_pos``. Positions are absolute sample counts that only grow, so
each side reads the other's index once and never needs a lock: a plain attribute store of an
``int`` is atomic under the GIL. The storage is allocated once and holds float32 already scaled
to [-1, 1): the writer converts, so the reader (the device callback) only copies.
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
        self._buf = np.zeros(self.capacity, dtype=np.float32)
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
        np.multiply(samples[:first], _SCALE, out=self._buf[start:start + first], casting="unsafe")
        if n > first:
            np.multiply(samples[first:n], _SCALE, out=self._buf[:n - first], casting="unsafe")
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

    @property
    def limit(self) -> int:
        return self._limit

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
        read = self._read_pos
        end = self._write_pos
        if self._limit < end:
            end = self._limit
        k = end - read if end - read < n else n
        if k <= 0:
            return 0
        start = read % self.capacity
        first = min(k, self.capacity - start)
        out[:first] = self._buf[start:start + first]
        if k > first:
            out[first:k] = self._buf[:k - first]
        self._read_pos = read + k
        return k
