"""Audio-sink conformance: the rules of ``engine.contracts.AudioSink`` for any sink.

Run on your plugin with ``facecast conformance --audio-sink NAME`` (options for its factory with
``--audio-sink-options '{"device": "pulse"}'``, repeatable). A sink whose ``real_time`` is True is
checked against the wall clock; one whose clock its caller advances (``real_time`` False) is
driven through ``advance(n)`` (``engine.contracts.OfflineAudioSink``), whose output also shows
whether the volume is applied. A sink that cannot be made or started here is skipped with its
reason (and a sink named on the command line whose every check is skipped fails the run).
"""

from __future__ import annotations

import math
import threading
import time

import numpy as np
import pytest

from engine import AvatarError, ErrorCode
from engine.contracts import AudioSink, OfflineAudioSink

from .plugin import registration

RATE = 16000
BLOCK = RATE // 100  # what an offline check advances per step, like a 10 ms device callback


def _tone(seconds: float, amplitude: int = 8000) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (np.sin(2 * math.pi * 220 * t) * amplitude).astype(np.int16)


class Driver:
    """Lets time pass for a sink: sleeping for a real-time sink, ``advance`` for an offline one."""

    def __init__(self, sink) -> None:
        self.sink = sink
        self.offline = not sink.real_time

    def run(self, seconds: float) -> None:
        if self.offline:
            for _ in range(max(1, round(seconds * RATE / BLOCK))):
                self.sink.advance(BLOCK)
        else:
            time.sleep(seconds)

    def until(self, predicate, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        steps = 0
        while not predicate():
            if self.offline:
                steps += 1
                if steps > timeout * RATE / BLOCK:
                    return False
                self.sink.advance(BLOCK)
            elif time.monotonic() > deadline:
                return predicate()
            else:
                time.sleep(0.01)
        return True


def test_factory_makes_a_sink_of_the_contract(make_sink):
    sink = make_sink(start=False)
    assert isinstance(sink, AudioSink), "missing members of engine.contracts.AudioSink"
    assert sink.sample_rate == RATE
    assert isinstance(sink.real_time, bool)
    if not sink.real_time:
        assert isinstance(sink, OfflineAudioSink), "a sink whose caller advances its clock must offer advance(n)"
    assert sink.position() == 0 and sink.played_samples() == 0 and sink.underruns == 0
    assert sink.write_position() == 0 and sink.queued_samples() == 0
    assert sink.get_volume() == 1.0


@pytest.mark.parametrize("bad", [np.zeros(10, np.float32), np.zeros((2, 5), np.int16), b"\x00\x01"],
                         ids=["float32", "2-D", "bytes"])
def test_bad_samples_are_refused_with_playback_start_failed(make_sink, bad):
    with pytest.raises(AvatarError) as info:
        make_sink(start=False).write(bad)
    assert info.value.code is ErrorCode.playbackStartFailed, info.value


@pytest.mark.parametrize("volume", [-0.1, 1.01, float("nan"), "loud"])
def test_bad_volume_is_refused(make_sink, volume):
    sink = make_sink(start=False)
    with pytest.raises(AvatarError) as info:
        sink.set_volume(volume)
    assert info.value.code is ErrorCode.playbackStartFailed, info.value
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
    played, free = sink.position(), sink.free_samples()
    took = sink.write(too_much)
    consumed = sink.position() - played + 2 * BLOCK  # a real device keeps consuming meanwhile
    assert took <= free + consumed, f"write() took {took} samples with room for {free}"


def test_clock_plays_every_written_sample_once(make_sink):
    sink = make_sink()
    drive = Driver(sink)
    audio = _tone(0.5)
    assert sink.write(audio) == audio.shape[0]
    sink.end_of_stream()
    assert drive.until(lambda: sink.played_samples() == audio.shape[0], timeout=5.0), sink.played_samples()
    glitches = sink.underruns  # a loaded machine may glitch a real device while it plays; that is allowed here
    drive.run(0.2)
    assert sink.played_samples() == audio.shape[0], "the sink played samples it was never given"
    assert sink.position() >= audio.shape[0] - RATE // 50
    assert sink.underruns == glitches, "running dry after end_of_stream() is not an underrun"


def test_clock_runs_at_the_rate_of_real_time(make_sink, real_time):
    """Over 1.5 s of playback the clock must advance 1.5 s of samples, ±1 %.

    Up to three windows are measured and one within bounds passes: on a loaded machine a reading
    can come late, and a window in which the device itself underran rightly did not count the
    silence it played. A clock that runs fast or slow misses in every window."""
    sink = make_sink()
    sink.write(_tone(12.0))
    assert Driver(sink).until(lambda: sink.position() > RATE // 5, timeout=5.0), "the clock did not start"
    rates, glitched = [], 0
    for _ in range(3):
        glitches = sink.underruns
        t0, p0 = time.monotonic(), sink.position()
        time.sleep(1.5)
        t1, p1 = time.monotonic(), sink.position()
        rate = (p1 - p0) / RATE / (t1 - t0)
        if sink.underruns != glitches:
            glitched += 1
        elif 0.99 <= rate <= 1.01:
            return
        else:
            rates.append(round(rate, 3))
    if not rates:
        pytest.skip(f"the device underran in all {glitched} measurement windows; a loaded machine")
    pytest.fail(f"the clock ran at {rates}× real time (±1 % allowed)", pytrace=False)


def test_position_stops_while_paused_and_never_runs_backwards(make_sink):
    sink = make_sink()
    drive = Driver(sink)
    sink.write(_tone(3.0))
    seen = [sink.position()]
    assert drive.until(lambda: sink.position() > RATE // 10, timeout=5.0)
    sink.pause()
    drive.run(0.15)  # the device may finish the block it was playing
    held = sink.position()
    drive.run(0.3)
    assert sink.position() == held, "the clock moved while paused"
    assert sink.queued_samples() > 0, "pause() must keep what is queued"
    sink.resume()
    assert drive.until(lambda: sink.position() > held + RATE // 10, timeout=5.0), "the clock did not resume"
    for _ in range(50):
        seen.append(sink.position())
        drive.run(0.004)
    sink.flush()
    for _ in range(20):
        seen.append(sink.position())
        drive.run(0.004)
    assert all(b >= a for a, b in zip(seen, seen[1:])), "the clock ran backwards"


def test_flush_drops_what_is_queued(make_sink):
    sink = make_sink()
    drive = Driver(sink)
    sink.write(_tone(3.0))
    assert drive.until(lambda: sink.played_samples() > 0, timeout=5.0)
    sink.flush()
    assert sink.queued_samples() == 0
    played = sink.played_samples()
    drive.run(0.3)
    assert sink.played_samples() - played <= RATE // 5, "flushed audio kept playing"


def test_write_position_counts_every_sample_written_flushed_ones_too(make_sink):
    sink = make_sink()
    drive = Driver(sink)
    first = sink.write(_tone(1.0))
    assert sink.write_position() == first, "write_position() must grow by what write() took"
    assert drive.until(lambda: sink.played_samples() > RATE // 10, timeout=5.0)
    sink.flush()
    assert sink.write_position() == first, "flush() must not move write_position() (stream positions only grow)"
    before_flush = sink.played_samples()
    second = sink.write(_tone(0.25))
    assert sink.write_position() == first + second
    sink.end_of_stream()
    assert drive.until(lambda: sink.position() >= first + second - RATE // 50, timeout=5.0), (
        f"position() reached {sink.position()}, not the end of the stream ({first + second}): "
        "positions count flushed samples too")
    assert sink.played_samples() <= before_flush + second + RATE // 5, "played_samples() counted flushed audio"


def test_set_limit_holds_the_clock_and_is_not_an_underrun(make_sink):
    sink = make_sink(start=False)
    drive = Driver(sink)
    limit = RATE // 4
    sink.write(_tone(2.0))
    sink.set_limit(limit)
    make_sink.start(sink)
    assert drive.until(lambda: sink.position() >= limit - RATE // 50, timeout=5.0), "the clock did not start"
    drive.run(0.5)
    assert sink.position() <= limit, f"the clock ran to {sink.position()}, past the limit {limit}"
    assert sink.played_samples() <= limit
    assert sink.underruns == 0, "waiting at the limit is not an underrun"
    sink.set_limit(None)
    assert drive.until(lambda: sink.position() > limit + RATE // 10, timeout=5.0), "set_limit(None) did not release it"


def test_running_dry_while_audio_is_expected_is_an_underrun(make_sink):
    sink = make_sink()
    drive = Driver(sink)
    sink.write(_tone(0.1))
    assert drive.until(lambda: sink.played_samples() >= RATE // 10, timeout=5.0)
    drive.run(0.3)
    assert sink.underruns >= 1, "the ring ran dry with no end_of_stream() and no underrun was counted"


def test_volume_is_applied_to_the_output(make_sink, offline):
    sink = make_sink()
    tone = _tone(0.1)
    heard = []
    for volume in (1.0, 0.25, 0.0):
        sink.set_volume(volume)
        sink.write(tone)
        out = np.array(sink.advance(tone.shape[0]), dtype=np.float64)
        assert out.shape == tone.shape, "advance(n) must return the n samples the device output"
        heard.append(out)
    want = tone / 32768.0
    np.testing.assert_allclose(heard[0], want, atol=2e-4, err_msg="advance() did not output what was written")
    np.testing.assert_allclose(heard[1], want * 0.25, atol=2e-4, err_msg="set_volume(0.25) was not applied")
    assert np.abs(heard[2]).max() < 1e-4, "set_volume(0) still outputs sound"


def test_advance_moves_the_clock_by_exactly_n(make_sink, offline):
    sink = make_sink()
    sink.write(_tone(1.0))
    sink.advance(BLOCK)
    start = sink.position()
    for _ in range(10):
        sink.advance(BLOCK)
    assert sink.position() - start == 10 * BLOCK, "advance(n) must move the clock by exactly n samples"
    assert sink.played_samples() == 11 * BLOCK


def test_close_is_idempotent(make_sink):
    sink = make_sink()
    sink.write(_tone(0.1))
    sink.close()
    sink.close()


@pytest.fixture
def make_sink(audio_sink_name, audio_sink_options, tmp_path):
    factory = registration("audio_sinks", audio_sink_name).factory
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
            start_or_skip(sink)
        return sink

    def start_or_skip(sink) -> None:
        try:
            sink.start()
        except AvatarError as exc:
            pytest.skip(f"{audio_sink_name} cannot start here: {exc.message}")

    make.start = start_or_skip
    yield make
    for sink in made:
        sink.close()


@pytest.fixture
def real_time(make_sink):
    if not make_sink(start=False).real_time:
        pytest.skip("this sink's clock is advanced by its caller, not by real time")


@pytest.fixture
def offline(make_sink):
    if make_sink(start=False).real_time:
        pytest.skip("a real-time sink's output is not observable here; checked on sinks made with real_time False")
