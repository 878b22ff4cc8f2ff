"""The audio-sink contract: where audio goes, and the master clock."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class AudioSink(Protocol):
    """Plays PCM16 mono at ``sample_rate`` and says which sample is being heard.

    Positions are *stream positions*: sample counts since the sink was made, counting
    every sample ever written (flushed ones included), so a caller can remember where a
    round began (``write_position()`` before its first sample) and later compute how far
    into the round the listener is (``position() - start``).

    Rules:
    - ``write(int16 1-D)`` copies samples into a preallocated ring and returns how many
      it took (fewer when the ring is full); it never blocks.
    - ``position()`` is the master clock: the stream position the listener hears now,
      derived from the device callback's frame counts and its DAC time (so output
      latency is accounted for). It stops while paused and never runs backwards.
      ``played_samples()`` counts only real samples heard (no silence, no flushed audio).
    - The device callback never blocks, allocates arrays, or takes a lock the render
      thread can hold; when the ring runs dry while ``write`` calls are still expected
      it plays silence and counts an underrun; after ``end_of_stream()`` it does not.
    - ``set_limit(pos)`` stops consumption at stream position ``pos`` (strict sync holds
      audio where motion runs out; reaching it is not an underrun); ``None`` lifts it.
    - ``pause()`` / ``resume()`` stop and restart consumption, keeping what is queued;
      ``flush()`` drops everything queued (interrupt); ``set_volume(0..1)`` is applied
      in the callback; ``close()`` releases the device and is idempotent.
    - ``device_time()`` is the device's clock in seconds (advances while paused);
      ``real_time`` is False for sinks whose clock the caller advances (tests, offline).
    """

    sample_rate: int
    real_time: bool

    def start(self) -> None: ...

    def write(self, samples: np.ndarray) -> int: ...

    def write_position(self) -> int: ...

    def free_samples(self) -> int: ...

    def queued_samples(self) -> int: ...

    def position(self) -> int: ...

    def played_samples(self) -> int: ...

    def device_time(self) -> float: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def flush(self) -> None: ...

    def end_of_stream(self) -> None: ...

    def set_limit(self, position: int | None) -> None: ...

    def set_volume(self, volume: float) -> None: ...

    def get_volume(self) -> float: ...

    @property
    def underruns(self) -> int: ...

    def close(self) -> None: ...
