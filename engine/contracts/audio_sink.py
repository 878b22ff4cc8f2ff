"""The audio-sink contract: where audio goes, and the master clock."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class AudioSink(Protocol):
    """Plays PCM16 mono at ``sample_rate`` and reports how much has been played.

    Rules:
    - ``write`` copies samples into a preallocated ring and returns how many it
      took (fewer when the ring is full); it never blocks.
    - ``played_samples()`` is the master clock: samples the device has actually
      output (from the callback's frame counts and DAC time), stopping while
      paused, never running backwards.
    - The device callback never blocks, allocates, or takes a lock the render
      thread can hold; when the ring runs dry it plays silence and counts an
      underrun.
    - ``flush()`` drops everything queued (interrupt); ``close()`` releases the
      device and is idempotent.
    """

    sample_rate: int

    def start(self) -> None: ...

    def write(self, samples: np.ndarray) -> int: ...

    def queued_samples(self) -> int: ...

    def played_samples(self) -> int: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def flush(self) -> None: ...

    def set_volume(self, volume: float) -> None: ...

    @property
    def underruns(self) -> int: ...

    def close(self) -> None: ...
