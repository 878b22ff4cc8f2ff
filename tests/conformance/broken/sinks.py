"""Audio sinks built on the kit's ``SimulatedSink``, each with one defect."""

from __future__ import annotations

import time

import numpy as np

from engine.kit import AvatarError, ErrorCode, SimulatedSink, hookimpl


class ClockRate(SimulatedSink):
    """A real-time device that consumes ``factor`` seconds of audio per second."""

    factor = 1.0

    def __init__(self, sample_rate, **options):
        super().__init__(sample_rate, real_time=True, **options)

    def device_time(self):
        if self._thread is not None:
            return (time.monotonic() - self._t0) * self.factor
        return self._frames / self.sample_rate

    def _pace(self):
        period = self.block / self.sample_rate
        while not self._stop.wait(period / 2):
            due = int((time.monotonic() - self._t0) * self.factor * self.sample_rate) + self.block
            while self._frames + self.block <= due:
                self.advance(self.block)


class Fast(ClockRate):
    factor = 2.0


class Slow(ClockRate):
    factor = 0.6


class NoLimit(SimulatedSink):
    def set_limit(self, position):
        pass


class NoVolume(SimulatedSink):
    def set_volume(self, volume):
        super().set_volume(volume)
        self.kept, self._volume = self._volume, 1.0

    def get_volume(self):
        return getattr(self, "kept", 1.0)


class QueuedNotStreamPosition(SimulatedSink):
    def write_position(self):
        return self.queued_samples()


class NoUnderruns(SimulatedSink):
    @property
    def underruns(self):
        return 0


class WrongError(SimulatedSink):
    def write(self, samples):
        if not isinstance(samples, np.ndarray) or samples.dtype != np.int16 or samples.ndim != 1:
            raise ValueError("bad samples")
        return super().write(samples)


def cannot_be_made(sample_rate, **options):
    raise AvatarError(ErrorCode.playbackInitFailed, "this sink never opens")


BROKEN = {"clock_2x": Fast, "clock_0_6x": Slow, "no_set_limit": NoLimit, "volume_ignored": NoVolume,
          "write_position_of_the_queue": QueuedNotStreamPosition, "underruns_never_counted": NoUnderruns,
          "value_error_on_bad_input": WrongError, "factory_always_raises": cannot_be_made}


@hookimpl
def register_audio_sinks(register):
    for name, factory in BROKEN.items():
        register(name, factory)
