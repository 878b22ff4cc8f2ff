"""Real audio: the ``sounddevice`` sink on a real-time PulseAudio null sink (tests/fixtures/pulse.py)."""

from __future__ import annotations

import asyncio
import time

import pytest

from engine.playback.controller import AvatarController

from .conftest import RATE, Recorder, keyframes, payloads, tone

pytestmark = pytest.mark.audio


@pytest.fixture
async def pulse_ctl(pulse_null_sink, backend, avatar):
    controller = AvatarController(avatar, audio_sink="sounddevice")
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
    cid = ctl.yield_audio_data(tone(10.0), end=True)
    ctl.yield_frames_data(payloads(keyframes(250)), cid)
    samples = []  # (wall time, audio clock)
    while ctl.conversation_state.value == "playing":
        samples.append((time.monotonic(), ctl.get_audio_time()))
        assert samples[-1][0] - samples[0][0] < 15.0, "playback never finished"
        await asyncio.sleep(0.005)
    sink = ctl.audio_sink
    assert ctl.get_audio_time() == pytest.approx(10.0, abs=1e-9)
    assert sink.played_samples() == 10 * RATE
    assert sink.underruns == 0
    # The clock keeps pace with real time: from 1 s to 9 s of audio takes 8 s of wall time.
    t1 = next(w for w, a in samples if a >= 1.0)
    t9 = next(w for w, a in samples if a >= 9.0)
    assert t9 - t1 == pytest.approx(8.0, abs=0.02)
    start = next(w for w, a in samples if a > 0.0)
    end = time.monotonic()
    assert end - start == pytest.approx(10.0, abs=0.03)  # includes the 5 ms polling step at both ends
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
