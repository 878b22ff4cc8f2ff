"""``RingSink``: the part every built-in audio sink shares — ring, clock, pause, gate, volume, underruns.

A concrete sink only has to call :meth:`RingSink._render` from its device callback with the
output buffer and the DAC time of its first sample, and say what time it is on the device
(:meth:`device_time`). ``_render`` never blocks, never takes a lock and allocates no arrays.
"""

from __future__ import annotations

import numpy as np

from ..errors import AvatarError, ErrorCode
from .clock import DeviceClock
from .ring import SampleRing

DEFAULT_CAPACITY_S = 30.0


class RingSink:
    """Base of the ``virtual``, ``file`` and ``sounddevice`` sinks (see ``engine.contracts.AudioSink``)."""

    real_time = True

    def __init__(self, sample_rate: int, capacity_s: float = DEFAULT_CAPACITY_S) -> None:
        if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or not 8000 <= sample_rate <= 192000:
            raise AvatarError(ErrorCode.playbackInitFailed,
                              f"sink sample_rate must be an int in 8000..192000 Hz, not {sample_rate!r}")
        if not capacity_s > 0:
            raise AvatarError(ErrorCode.playbackInitFailed, f"sink capacity_s must be > 0 seconds, not {capacity_s!r}")
        self.sample_rate = sample_rate
        self._ring = SampleRing(int(round(sample_rate * capacity_s)))
        self._clock = DeviceClock(sample_rate)
        self._volume = 1.0
        self._paused = False  # writer-owned flags the callback only reads
        self._open = False  # more audio is expected: running dry now is an underrun
        self._played = 0  # callback-owned
        self._underruns = 0  # callback-owned
        self._gated_callbacks = 0  # callback-owned: callbacks held at the limit (strict sync)
        self._closed = False

    # -- the device callback body ----------------------------------------------------------

    def _render(self, out: np.ndarray, dac_time: float) -> int:
        """Fill ``out`` (float32, 1-D) with the next samples; silence where there are none."""
        ring = self._ring
        ring.skip_flushed()
        n = out.shape[0]
        position = ring.read_pos
        real = 0 if self._paused else ring.read_into(out, n)
        if real < n:
            out[real:] = 0.0
            if not self._paused:
                if ring.read_pos >= ring.limit:
                    self._gated_callbacks += 1
                elif self._open:
                    self._underruns += 1
        volume = self._volume
        if real and volume != 1.0:
            np.multiply(out[:real], volume, out=out[:real])
        self._clock.stamp(position, self._played, real, dac_time)
        self._played += real
        return real

    # -- what a concrete sink provides -------------------------------------------------------

    def device_time(self) -> float:
        """Seconds on the device's clock (same base as the DAC times passed to ``_render``)."""
        raise NotImplementedError

    def start(self) -> None:
        """Open the device; audio written before starts playing once it runs."""

    def _close_device(self) -> None:
        """Release the device (called once by :meth:`close`)."""

    # -- the AudioSink contract --------------------------------------------------------------

    def write(self, samples: np.ndarray) -> int:
        if not isinstance(samples, np.ndarray) or samples.dtype != np.int16 or samples.ndim != 1:
            what = f"{samples.dtype} {samples.shape}" if isinstance(samples, np.ndarray) else type(samples).__name__
            raise AvatarError(ErrorCode.playbackStartFailed,
                              f"sink.write takes a 1-D int16 array (PCM16 mono), not {what}; "
                              "convert bytes with numpy.frombuffer(data, '<i2')")
        self._open = True
        return self._ring.write(samples)

    def write_position(self) -> int:
        return self._ring.write_pos

    def free_samples(self) -> int:
        return self._ring.free()

    def queued_samples(self) -> int:
        return max(0, self._ring.write_pos - max(self._ring.read_pos, self._ring._flush_to))

    def position(self) -> int:
        return self._clock.now(self.device_time())[0]

    def played_samples(self) -> int:
        return self._clock.now(self.device_time())[1]

    def pause(self) -> None:
        self._paused = True

    def resume(self) -> None:
        self._paused = False

    @property
    def paused(self) -> bool:
        return self._paused

    def flush(self) -> None:
        self._open = False
        self._ring.flush()

    def end_of_stream(self) -> None:
        """No more audio is coming for now: running dry is not an underrun."""
        self._open = False

    def set_limit(self, position: int | None) -> None:
        if position is None:
            self._ring.clear_limit()
        else:
            self._ring.set_limit(position)

    def set_volume(self, volume: float) -> None:
        if isinstance(volume, bool) or not isinstance(volume, (int, float)) or not 0.0 <= volume <= 1.0:
            raise AvatarError(ErrorCode.playbackStartFailed, f"volume must be a number in 0.0..1.0, not {volume!r}")
        self._volume = float(volume)

    def get_volume(self) -> float:
        return self._volume

    @property
    def underruns(self) -> int:
        return self._underruns

    @property
    def gated_callbacks(self) -> int:
        return self._gated_callbacks

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._close_device()
