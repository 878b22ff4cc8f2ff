"""``SimulatedSink``: an audio device with no hardware, advanced by the caller or by real time.

With ``real_time=False`` (the default) nothing plays until the caller calls ``advance(n)``,
which consumes ``n`` samples exactly as a device callback would — deterministic tests and
offline rendering. With ``real_time=True`` a thread advances it in ``block``-sample steps paced
by ``time.monotonic()``, like a sound card with no speaker.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from ..errors import AvatarError, ErrorCode
from .sink import DEFAULT_CAPACITY_S, RingSink


class SimulatedSink(RingSink):
    """A sink whose device is simulated; ``latency`` (s) delays when a buffer is heard."""

    def __init__(self, sample_rate: int, *, real_time: bool = False, latency: float = 0.0,
                 block: int | None = None, capacity_s: float = DEFAULT_CAPACITY_S) -> None:
        super().__init__(sample_rate, capacity_s)
        if not 0.0 <= latency <= 1.0:
            raise AvatarError(ErrorCode.playbackInitFailed,
                              f"virtual sink latency must be 0..1 s, not {latency!r}")
        self.real_time = bool(real_time)
        self.latency = float(latency)
        self.block = int(block or sample_rate // 100)  # 10 ms, like PulseAudio's callbacks
        self._frames = 0  # device frames rendered so far (silence included)
        self._out = np.zeros(max(self.block, sample_rate), dtype=np.float32)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._t0 = 0.0

    def device_time(self) -> float:
        if self.real_time and self._thread is not None:
            return time.monotonic() - self._t0
        return self._frames / self.sample_rate

    def advance(self, n: int) -> np.ndarray:
        """Let the device consume ``n`` samples; returns what it output (a view, valid until the next call)."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise AvatarError(ErrorCode.playbackStartFailed,
                              f"advance(n) needs a sample count >= 0, not {n!r}")
        if n > self._out.shape[0]:
            self._out = np.zeros(int(n), dtype=np.float32)
        out = self._out[:n]
        dac = self._frames / self.sample_rate + self.latency
        self._render(out, dac)
        self._frames += int(n)
        self._emit(out)
        return out

    def advance_seconds(self, seconds: float) -> np.ndarray:
        return self.advance(int(round(seconds * self.sample_rate)))

    def _emit(self, out: np.ndarray) -> None:
        """Where the 'device' sends its output (the file sink writes it)."""

    def start(self) -> None:
        if not self.real_time or self._thread is not None:
            return
        self._t0 = time.monotonic() - self._frames / self.sample_rate
        self._thread = threading.Thread(target=self._pace, name="facecast-virtual-sink", daemon=True)
        self._thread.start()

    def _pace(self) -> None:
        # Like a sound card, render one block ahead of the time it is heard, so the clock
        # (which interpolates within a block from its DAC time) moves smoothly, not in steps.
        period = self.block / self.sample_rate
        while not self._stop.wait(period / 2):
            due = int((time.monotonic() - self._t0) * self.sample_rate) + self.block
            while self._frames + self.block <= due:
                self.advance(self.block)

    def _close_device(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None

