"""The ``virtual`` audio sink: ``engine.kit.SimulatedSink`` — a device with no hardware.

Options: ``real_time`` (False: the caller calls ``advance(n)``; True: a thread paces it by the
monotonic clock), ``latency`` seconds, ``block`` samples per simulated callback, ``capacity_s``.
"""

from __future__ import annotations

import engine
from engine.kit import SimulatedSink


def make_virtual_sink(sample_rate: int, **options) -> SimulatedSink:
    return SimulatedSink(sample_rate, **options)


@engine.hookimpl
def register_audio_sinks(register):
    register("virtual", make_virtual_sink)
