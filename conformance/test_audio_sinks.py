"""Audio-sink conformance: the rules of ``engine.contracts.AudioSink`` for any sink, in real time.

Run on your plugin with ``facecast conformance --audio-sink NAME`` (options for its factory with
``--audio-sink-options '{"device": "pulse"}'``). A sink that cannot open a device here is skipped
with its reason; timing checks allow for a loaded machine but not for a clock that drifts,
stalls or runs backwards.
"""

from __future__ import annotations

import math
import threading
import time

import numpy as np
import pytest

from engine import AvatarError
from engine.contracts import AudioSink

RATE = 16000


def _tone(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (np.sin(2 * math.pi * 220 * t) * 8000).astype(np.int16)


def _wait_until(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def test_factory_makes_a_sink_of_the_contract(make_sink):
    sink = make_sink(start=False)
    assert isinstance(sink, AudioSink)
    assert sink.sample_rate == RATE
    assert isinstance(sink.real_time, bool)
    assert sink.position() == 0 and sink.played_samples() == 0 and sink.underruns == 0


@pytest.mark.parametrize("bad", [np.zeros(10, np.float32), np.zeros((2, 5), np.int16), b"\x00\x01"])
def test_bad_samples_are_refused_with_an_avatar_error(make_sink, bad):
    with pytest.raises(AvatarError):
        make_sink(start=False).write(bad)


@pytest.mark.parametrize("volume", [-0.1, 1.01, float("nan"), "loud"])
def test_bad_volume_is_refused(make_sink, volume):
    sink = make_sink(start=False)
    with pytest.raises(AvatarError):
        sink.set_volume(volume)
    sink.set_volume(0.25)
    assert sink.get_volume() == 0.25


def test_write_never_blocks_and_takes_what_fits(make_sink):
    sink = make_sink()
    too_much = np.zeros(RATE * 3600, dtype=np.int16)  # an hour: more than any ring holds
    taken = []
    writer = threading.Thread(target=lambda: taken.append(sink.write(too_much)))
    writer.start()
    writer.join(timeout=10)
    assert not writer.is_alive(), "write() blocked on a full ring"
    assert 0 < taken[0] < too_much.shape[0]
    assert sink.queued_samples() <= taken[0]
    assert sink.write(too_much) <= sink.free_samples() + 1


def test_clock_plays_every_written_sample_once(make_sink, real_time):
    sink = make_sink()
    audio = _tone(0.5)
    assert sink.write(audio) == audio.shape[0]
    sink.end_of_stream()
    assert _wait_until(lambda: sink.played_samples() == audio.shape[0], timeout=5.0), sink.played_samples()
    glitches = sink.underruns  # a loaded machine may glitch a real device while it plays; that is allowed here
    time.sleep(0.2)
    assert sink.played_samples() == audio.shape[0], "the sink played samples it was never given"
    assert sink.position() >= audio.shape[0] - RATE // 50
    assert sink.underruns == glitches, "running dry after end_of_stream() is not an underrun"


def test_position_stops_while_paused_and_never_runs_backwards(make_sink, real_time):
    sink = make_sink()
    sink.write(_tone(3.0))
    seen = [sink.position()]
    assert _wait_until(lambda: sink.position() > RATE // 10, timeout=5.0)
    sink.pause()
    time.sleep(0.15)  # the device may finish the block it was playing
    held = sink.position()
    time.sleep(0.3)
    assert sink.position() == held, "the clock moved while paused"
    queued = sink.queued_samples()
    assert queued > 0, "pause() must keep what is queued"
    sink.resume()
    assert _wait_until(lambda: sink.position() > held + RATE // 10, timeout=5.0), "the clock did not resume"
    for _ in range(50):
        seen.append(sink.position())
        time.sleep(0.004)
    sink.flush()
    for _ in range(20):
        seen.append(sink.position())
        time.sleep(0.004)
    assert all(b >= a for a, b in zip(seen, seen[1:])), "the clock ran backwards"


def test_flush_drops_what_is_queued(make_sink, real_time):
    sink = make_sink()
    sink.write(_tone(3.0))
    assert _wait_until(lambda: sink.played_samples() > 0, timeout=5.0)
    sink.flush()
    assert sink.queued_samples() == 0
    played = sink.played_samples()
    time.sleep(0.3)
    assert sink.played_samples() - played <= RATE // 5, "flushed audio kept playing"


def test_close_is_idempotent(make_sink):
    sink = make_sink()
    sink.write(_tone(0.1))
    sink.close()
    sink.close()


@pytest.fixture
def make_sink(audio_sink_name, audio_sink_options, tmp_path):
    from engine.plugins import get_plugin_manager

    try:
        factory = get_plugin_manager().get("audio_sinks", audio_sink_name).factory
    except KeyError as exc:
        pytest.fail(str(exc.args[0]))
    made = []

    def make(start: bool = True):
        options = {k: (str(tmp_path / v.split(":", 1)[1]) if isinstance(v, str) and v.startswith("tmp:") else v)
                   for k, v in audio_sink_options.items()}
        try:
            sink = factory(RATE, **options)
        except AvatarError as exc:
            pytest.skip(f"{audio_sink_name} cannot be made here: {exc.message}")
        made.append(sink)
        if start:
            try:
                sink.start()
            except AvatarError as exc:
                pytest.skip(f"{audio_sink_name} cannot start here: {exc.message}")
        return sink

    yield make
    for sink in made:
        sink.close()


@pytest.fixture
def real_time(make_sink):
    if not make_sink(start=False).real_time:
        pytest.skip("this sink's clock is advanced by its caller, not by real time")
