"""Real audio: the ``sounddevice`` sink on a real-time PulseAudio null sink (tests/fixtures/pulse.py)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time

import numpy as np
import pytest

from engine.playback.controller import AvatarController

from .conftest import RATE, Recorder, keyframes, payloads, tone

pytestmark = pytest.mark.audio


@pytest.fixture
async def pulse_ctl(pulse_null_sink, backend, avatar):
    # 100 ms of device buffering rides out scheduling hiccups of a loaded 2-core machine.
    controller = AvatarController(avatar, audio_sink="sounddevice", latency=0.1)
    # As an app does at startup: open the output early. A fresh PortAudio stream on PulseAudio
    # prefills, then may stall for up to ~0.5 s before it runs steadily.
    await controller.initialize_audio_context()
    await asyncio.sleep(1.0)
    yield controller
    controller.dispose()


async def wait_for(condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.005)


async def test_ten_seconds_of_audio_advance_the_clock_ten_seconds(pulse_ctl):
    ctl = pulse_ctl
    rec = Recorder(ctl)
    cid = ctl.yield_audio_data(tone(11.5), end=True)
    ctl.yield_frames_data(payloads(keyframes(288)), cid)
    # ALSA's pulse plugin under-reports the output delay for a moment after audio starts; measure
    # the steady clock, from 1 s in, over 10 s of wall time.
    await wait_for(lambda: ctl.get_audio_time() >= 1.0, 3.0)
    wall0, audio0 = time.monotonic(), ctl.get_audio_time()
    await asyncio.sleep(10.0)
    wall1, audio1 = time.monotonic(), ctl.get_audio_time()
    print(f"audio clock advanced {audio1 - audio0:.4f} s in {wall1 - wall0:.4f} s of wall time, "
          f"{ctl.audio_sink.underruns} underruns")
    assert audio1 - audio0 == pytest.approx(wall1 - wall0, abs=0.02)
    await wait_for(lambda: ctl.conversation_state.value == "idle", 2.0)
    sink = ctl.audio_sink
    assert ctl.get_audio_time() == pytest.approx(11.5, abs=1e-9)
    assert sink.played_samples() == int(11.5 * RATE)
    assert sink.underruns == 0
    assert [e for e in await rec.take() if e[0] == "conversation_state"] == [
        ("conversation_state", "playing"), ("conversation_state", "idle")]


async def test_pause_resume_interrupt_on_a_real_device(pulse_ctl):
    ctl = pulse_ctl
    rec = Recorder(ctl)
    cid = ctl.yield_audio_data(tone(3.0), end=True)
    ctl.yield_frames_data(payloads(keyframes(75)), cid)
    await wait_for(lambda: ctl.get_audio_time() >= 0.5, 3.0)
    ctl.pause()
    await asyncio.sleep(0.2)  # audio already in the device's buffer drains (its output latency)
    held = ctl.get_audio_time()
    await asyncio.sleep(0.4)
    assert ctl.get_audio_time() == held  # the clock stands still while paused
    assert 0.5 <= held < 0.7
    await ctl.resume()
    await wait_for(lambda: ctl.get_audio_time() >= held + 0.3, 2.0)
    ctl.interrupt()
    assert ctl.get_audio_time() == 0.0
    await asyncio.sleep(0.1)
    assert ctl.audio_sink.queued_samples() == 0
    assert ctl.audio_sink.underruns == 0
    events = [e for e in await rec.take() if e[0] == "conversation_state"]
    assert events == [("conversation_state", s) for s in ("playing", "paused", "playing", "idle")]


async def test_what_reaches_the_speaker_is_the_resampled_tone_at_the_set_volume(pulse_null_sink, backend, avatar,
                                                                               tmp_path):
    """Record the null sink's monitor while a 16 kHz tone plays through a 48 kHz device stream."""
    ctl = AvatarController(avatar, audio_sink="sounddevice", latency=0.1, device_rate=48000)
    raw = tmp_path / "monitor.raw"
    sink_file = raw.open("wb")  # a file, not a pipe: a pipe fills up in 0.7 s and parec stalls
    recorder = subprocess.Popen(["parec", f"--device={pulse_null_sink}.monitor", "--raw", "--format=s16le",
                                 "--rate=48000", "--channels=1", "--latency-msec=20"],
                                stdout=sink_file)
    try:
        await asyncio.sleep(0.3)
        seconds, freq = 1.0, 440.0
        t = np.arange(int(seconds * RATE)) / RATE
        ctl.set_volume(0.5)
        ctl.yield_audio_data((np.sin(2 * np.pi * freq * t) * 16000).astype("<i2").tobytes(), end=True)
        assert ctl.audio_sink.device_rate == 48000  # the callback resamples 16 kHz to 48 kHz
        await wait_for(lambda: ctl.conversation_state.value == "idle", 3.0)
        await asyncio.sleep(0.3)
    finally:
        recorder.send_signal(signal.SIGINT)  # parec flushes what it recorded on SIGINT
        recorder.wait(timeout=5)
        sink_file.close()
        captured = np.frombuffer(raw.read_bytes(), "<i2").astype(np.float64)
        ctl.dispose()
    loud = np.abs(captured) > 2000
    idx = np.where(loud)[0]
    assert not (np.diff(idx) > 48).any(), "the tone has a gap (a 1 ms dropout)"
    assert loud.any(), "nothing reached the null sink"
    first, last = np.argmax(loud), len(loud) - np.argmax(loud[::-1])
    tone_part = captured[first:last]
    assert len(tone_part) / 48000 == pytest.approx(seconds, abs=0.02)
    spectrum = np.abs(np.fft.rfft(tone_part * np.hanning(len(tone_part))))
    peak_hz = np.argmax(spectrum) * 48000 / len(tone_part)
    assert peak_hz == pytest.approx(freq, abs=2.0)
    assert np.sqrt(np.mean(tone_part ** 2)) == pytest.approx(0.5 * 16000 / np.sqrt(2), rel=0.05)
