"""The ring, the device clock and the built-in sinks, driven as a device would drive them."""

from __future__ import annotations

import types
import wave

import numpy as np
import pytest

from engine import AvatarError, ErrorCode
from engine.contracts import AudioSink
from engine.playback.ring import SampleRing
from engine.playback.simulated import SimulatedSink
from plugins.sink_file import FileSink
from plugins.sink_sounddevice import SoundDeviceSink

RATE = 16000


def ramp(n: int, start: int = 0) -> np.ndarray:
    return ((np.arange(start, start + n) % 30000) - 15000).astype(np.int16)


def test_ring_wraps_and_never_overfills():
    ring = SampleRing(1000)
    out = np.zeros(1000, np.float32)
    assert ring.write(ramp(700)) == 700
    assert ring.read_into(out, 500) == 500
    assert ring.write(ramp(900, 700)) == 800  # 200 queued + 800 = capacity
    assert ring.write(ramp(10)) == 0
    assert ring.read_into(out, 1000) == 1000
    np.testing.assert_array_equal(np.rint(out * 32768).astype(np.int16), ramp(1000, 500))


def test_ring_flush_skips_queued_audio_and_limit_holds_the_reader():
    ring = SampleRing(1000)
    out = np.zeros(1000, np.float32)
    ring.write(ramp(600))
    ring.flush()
    assert ring.free() == 1000  # the writer may refill at once
    ring.write(ramp(100, 5000))
    ring.skip_flushed()
    ring.set_limit(650)
    assert ring.read_into(out, 100) == 50  # held at the limit
    np.testing.assert_array_equal(np.rint(out[:50] * 32768).astype(np.int16), ramp(50, 5000))
    ring.clear_limit()
    assert ring.read_into(out, 100) == 50


def test_clock_accounts_for_output_latency_and_stops_while_paused():
    sink = SimulatedSink(RATE, latency=0.05)
    assert isinstance(sink, AudioSink)
    sink.write(ramp(RATE))
    sink.advance(1600)  # 0.1 s of device time: the first 0.05 s of audio has been heard
    assert sink.position() == 800
    sink.pause()
    sink.advance(1600)  # what was in flight drains, then the clock stands still
    assert sink.position() == 1600
    sink.advance(1600)
    assert sink.position() == 1600
    sink.resume()
    sink.advance(800)  # resumed audio is heard only after the latency: no jump, no running backwards
    assert sink.position() == 1600
    sink.advance(1600)
    assert sink.position() == 1600 + 1600 + 800 - 800
    assert sink.underruns == 0


def test_underruns_are_counted_only_while_audio_is_expected():
    sink = SimulatedSink(RATE)
    sink.advance(800)
    assert sink.underruns == 0  # nothing was ever written
    sink.write(ramp(400))
    sink.advance(800)
    assert sink.underruns == 1  # ran dry mid-stream
    sink.write(ramp(400))
    sink.end_of_stream()
    sink.advance(800)
    sink.advance(800)
    assert sink.underruns == 1
    assert sink.played_samples() == 800


def test_file_sink_writes_exactly_the_device_timeline(tmp_path):
    path = tmp_path / "out.wav"
    sink = FileSink(RATE, path=path)
    sink.advance(160)  # leading silence
    sink.write(ramp(1000))
    sink.end_of_stream()
    sink.set_volume(0.5)
    sink.advance(1200)
    sink.close()
    sink.close()
    with wave.open(str(path), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (1, 2, RATE, 1360)
        pcm = np.frombuffer(w.readframes(1360), "<i2")
    assert not pcm[:160].any() and not pcm[1160:].any()
    np.testing.assert_allclose(pcm[160:1160], ramp(1000) * 0.5, atol=0.5)


def test_file_sink_reports_an_unwritable_path(tmp_path):
    with pytest.raises(AvatarError) as err:
        FileSink(RATE, path=tmp_path / "missing-dir" / "out.wav")
    assert err.value.code == ErrorCode.playbackInitFailed and "missing-dir" in err.value.message


def test_the_callback_resamples_continuously_across_blocks():
    sink = SoundDeviceSink(RATE, device_rate=48000)
    sink._prepare_resampler(48000, 480)
    signal = (np.sin(np.arange(RATE) * 2 * np.pi * 440 / RATE) * 20000).astype(np.int16)
    sink.write(signal)
    status = types.SimpleNamespace(output_underflow=False)
    blocks = []
    for i in range(40):  # 0.4 s of 10 ms device callbacks
        out = np.zeros((480, 1), np.float32)
        sink._callback(out, 480, types.SimpleNamespace(outputBufferDacTime=i * 0.01, currentTime=0.0), status)
        blocks.append(out[:, 0])
    played = np.concatenate(blocks)
    # Device frame k sits at stream sample k/3; the first is the 'previous sample' (silence) slot.
    x = np.arange(played.shape[0]) / 3.0 - 1.0
    expected = np.interp(x, np.arange(RATE), signal / 32768.0, left=0.0)
    np.testing.assert_allclose(played, expected, atol=1e-5)
    assert sink.underruns == 0
    assert sink.played_samples() == pytest.approx(40 * 160, abs=2)


async def test_offline_rendering_through_the_file_sink(backend, avatar, tmp_path):
    """The demo's path: a controller on the file sink, advanced one video frame at a time."""
    from engine.playback.controller import AvatarController

    from .conftest import keyframes, payloads, tone

    path = tmp_path / "speech.wav"
    ctl = AvatarController(avatar, audio_sink="file", path=str(path))
    speech = tone(0.5)
    cid = ctl.yield_audio_data(speech, end=True)
    ctl.yield_frames_data(payloads(keyframes(13)), cid)
    out = np.zeros(ctl._dim, np.float32)
    times = []
    for _ in range(20):  # 25 fps video: 0.8 s
        ctl.frame_pose(out)
        times.append(ctl.pose_time)
        ctl.audio_sink.advance(RATE // 25)
    ctl.dispose()
    assert times[:13] == pytest.approx([i / 25 for i in range(13)])  # each video frame at its audio time
    assert times[13:] == [None] * 7  # the round ended at 0.5 s: idle from then on
    with wave.open(str(path), "rb") as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    assert pcm.shape[0] == 20 * RATE // 25  # exactly the device timeline
    np.testing.assert_array_equal(pcm[: RATE // 2], np.frombuffer(speech, "<i2"))
    assert not pcm[RATE // 2:].any()
