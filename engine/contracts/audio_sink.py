"""The audio-sink contract: where audio goes, and the master clock."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class AudioSink(Protocol):
    """Plays PCM16 mono at ``sample_rate`` and says which sample is being heard.

    Made by ``factory(sample_rate: int, **options) -> AudioSink`` (the ``register_audio_sinks``
    hook). An app picks a sink with ``controller.set_audio_sink(name, **options)`` before audio
    starts, or for every controller with the environment variable ``FACECAST_AUDIO_SINK=name``.

    Positions are *stream positions*: sample counts since the sink was made, counting every
    sample ever written (flushed ones included), so a caller can remember where a round began
    (``write_position()`` before its first sample) and later compute how far into the round the
    listener is (``position() - start``).

    Rules (``facecast conformance --audio-sink NAME`` checks each one a test can observe;
    docs/plugins.md maps every rule to its check):

    1. Made: ``sample_rate`` is the rate asked for; ``real_time`` is a bool; a new sink has
       ``position() == played_samples() == write_position() == queued_samples() == underruns == 0``
       and volume 1.0. A factory or ``start()`` that cannot run here raises
       ``AvatarError(playbackInitFailed)`` saying why.
    2. Bad input is refused with ``AvatarError(playbackStartFailed)``: ``write`` of anything but
       a 1-D ``int16`` array; ``set_volume`` of anything but a number in 0.0..1.0.
    3. ``write(samples) -> int`` copies into a preallocated ring and returns how many it took
       (fewer when the ring is full); it never blocks. ``write_position()`` grows by exactly that.
    4. ``position()`` is the master clock: the stream position the listener hears now, derived
       from the device callback's frame counts and its DAC time (so output latency is accounted
       for). It advances at the rate of real time (±1 %) for a real-time sink, stops while
       paused and never runs backwards. ``played_samples()`` counts only real samples heard
       (no silence, no flushed audio); every sample written is played exactly once.
    5. The device callback never blocks, allocates arrays, or takes a lock the render thread
       can hold. When the ring runs dry while ``write`` calls are still expected it plays
       silence and counts an underrun (``underruns``); after ``end_of_stream()`` it does not.
    6. ``set_limit(pos)`` stops consumption at stream position ``pos`` (strict sync holds audio
       where motion runs out; waiting there is not an underrun); ``None`` lifts it.
    7. ``pause()`` / ``resume()`` stop and restart consumption, keeping what is queued;
       ``flush()`` drops everything queued (interrupt) without moving ``write_position()``, and
       ``position()`` then reaches the end of the stream as soon as new audio plays.
    8. ``set_volume(v)`` scales the output by ``v`` (applied in the callback); ``get_volume()``
       returns it. ``close()`` releases the device and is idempotent.
    9. ``device_time()`` is the device's clock in seconds (advances while paused). ``real_time``
       is False for sinks whose clock the caller advances: those are ``OfflineAudioSink``.
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


@runtime_checkable
class OfflineAudioSink(AudioSink, Protocol):
    """A sink whose clock its caller advances (``real_time`` False): tests and offline rendering.

    Offline rendering: ``controller.set_audio_sink("file", path="out.wav")`` (or ``"virtual"``),
    then for each video frame ``controller.audio_sink.advance(sample_rate // fps)`` and
    ``view.render_frame()``.

    Rule 10: ``advance(n) -> float32 (n,)`` lets the device consume ``n`` samples exactly as one
    device callback would (volume applied, silence where the ring is dry, an underrun counted if
    audio was still expected), moves ``position()`` by exactly ``n`` while real samples play, and
    returns what the device output (a view, valid until the next call).
    """

    def advance(self, n: int) -> np.ndarray: ...
