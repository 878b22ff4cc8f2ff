"""Scripted rounds on the caller-advanced virtual sink: exact event sequences, clock and audio output."""

from __future__ import annotations

import numpy as np
import pytest

from engine import AvatarError, ConversationState, ErrorCode

from .conftest import RATE, keyframes, payloads, run, tone


async def test_full_round(ctl, rec):
    cid = ctl.yield_audio_data(tone(1.0))
    assert isinstance(cid, str) and cid
    assert await rec.take() == [("conversation_state", "playing")]
    assert ctl.yield_frames_data(payloads(keyframes(25)[:10], end=False), cid) is False
    assert await rec.take() == [("animation_state", "mono")]
    assert ctl.yield_frames_data(payloads(keyframes(25)[10:], start=10), cid) is True
    assert ctl.yield_audio_data(b"", end=True) == cid  # an empty final chunk closes the round
    run(ctl, 0.5)
    assert ctl.get_audio_time() == pytest.approx(0.5, abs=1e-9)
    assert await rec.take() == []
    run(ctl, 0.6)
    assert await rec.take() == [("conversation_state", "idle"), ("animation_state", "idle")]
    assert ctl.get_audio_time() == pytest.approx(1.0, abs=1e-9)
    assert ctl.audio_sink.underruns == 0
    assert ctl.audio_sink.played_samples() == RATE


async def test_two_rounds_back_to_back(ctl, rec):
    ids = []
    for seed in (1, 2):
        cid = ctl.yield_audio_data(tone(0.4), end=True)
        ids.append(cid)
        assert ctl.yield_frames_data(payloads(keyframes(10, seed=seed)), cid) is True
        run(ctl, 0.5)
        assert ctl.get_audio_time() == pytest.approx(0.4, abs=1e-9)
    assert ids[0] != ids[1]
    assert await rec.take() == [("conversation_state", "playing"), ("animation_state", "mono"),
                                ("conversation_state", "idle"), ("animation_state", "idle")] * 2


async def test_new_audio_after_end_interrupts_playback(ctl, rec):
    first = ctl.yield_audio_data(tone(1.0), end=True)
    ctl.yield_frames_data(payloads(keyframes(25)), first)
    run(ctl, 0.3)
    await rec.take()
    second_audio = (np.arange(RATE // 2) % 100 * 50).astype("<i2")
    second = ctl.yield_audio_data(second_audio.tobytes())
    assert second != first
    # The first round's speech stops at once; the conversation goes on playing (no idle in between).
    assert await rec.take() == [("animation_state", "idle")]
    assert ctl.get_audio_time() == 0.0
    out = ctl.audio_sink.advance(800)
    np.testing.assert_array_equal(np.rint(out * 32768).astype(np.int16), second_audio[:800])
    assert ctl.yield_frames_data(payloads(keyframes(25)), first) is False  # the old round's motion is stale
    assert ctl.yield_frames_data(payloads(keyframes(13), end=True), second) is True
    ctl.yield_audio_data(b"", end=True)
    run(ctl, 0.6)
    assert await rec.take() == [("animation_state", "mono"), ("conversation_state", "idle"),
                                ("animation_state", "idle")]


async def test_pause_and_resume_mid_round(ctl, rec):
    cid = ctl.yield_audio_data(tone(1.0), end=True)
    ctl.yield_frames_data(payloads(keyframes(25)), cid)
    run(ctl, 0.3)
    ctl.pause()
    assert await rec.take() == [("conversation_state", "playing"), ("animation_state", "mono"),
                                ("conversation_state", "paused")]
    frozen = np.zeros(ctl._dim, np.float32)
    ctl.frame_pose(frozen)
    out = ctl.audio_sink.advance(RATE // 2)
    assert not out.any()  # silence while paused
    pose = np.zeros_like(frozen)
    ctl.frame_pose(pose)
    np.testing.assert_array_equal(pose, frozen)  # animation paused too
    assert ctl.get_audio_time() == pytest.approx(0.3, abs=1e-9)
    ctl.pause()  # pausing twice changes nothing
    await ctl.resume()
    assert await rec.take() == [("conversation_state", "playing")]
    run(ctl, 0.8)
    assert await rec.take() == [("conversation_state", "idle"), ("animation_state", "idle")]
    assert ctl.get_audio_time() == pytest.approx(1.0, abs=1e-9)
    assert ctl.audio_sink.played_samples() == RATE  # buffers were kept: every sample played once


async def test_interrupt_during_playback(ctl, rec):
    cid = ctl.yield_audio_data(tone(2.0))
    ctl.yield_frames_data(payloads(keyframes(50), end=False), cid)
    run(ctl, 0.3)
    ctl.interrupt()
    assert await rec.take() == [("conversation_state", "playing"), ("animation_state", "mono"),
                                ("conversation_state", "idle"), ("animation_state", "idle")]
    assert ctl.get_audio_time() == 0.0
    assert ctl.audio_sink.queued_samples() == 0
    assert not ctl.audio_sink.advance(1600).any()
    ctl.interrupt()  # idempotent
    assert ctl.yield_frames_data(payloads(keyframes(5), start=50), cid) is False
    assert await rec.take() == []
    assert ctl.conversation_state == ConversationState.idle
    assert ctl.audio_sink.underruns == 0


async def test_interrupt_during_the_idle_transition(ctl, rec, avatar):
    cid = ctl.yield_audio_data(tone(0.4), end=True)
    ctl.yield_frames_data(payloads(keyframes(10)), cid)
    run(ctl, 0.42)
    assert await rec.take() == [("conversation_state", "playing"), ("animation_state", "mono"),
                                ("conversation_state", "idle"), ("animation_state", "idle")]
    assert ctl._playhead.mixer.in_transition  # still easing from speech back into idle
    ctl.interrupt()
    ctl.interrupt()
    assert await rec.take() == []
    run(ctl, 2.0)  # the transition completes: the idle loop plays
    out = np.zeros(ctl._dim, np.float32)
    ctl.frame_pose(out)
    idle = np.zeros_like(out)
    ctl._playhead.mixer.idle_loop.sample(ctl._playhead.anim_time, idle)
    np.testing.assert_allclose(out, idle, atol=1e-6)


async def test_audio_only_conversation(ctl, rec):
    cid = ctl.yield_audio_data(tone(0.5), end=True)
    assert ctl.yield_frames_data([], cid) is True
    run(ctl, 0.6)
    assert await rec.take() == [("conversation_state", "playing"), ("conversation_state", "idle")]
    assert ctl.audio_sink.played_samples() == RATE // 2


async def test_frames_for_a_stale_conversation_are_ignored(ctl, rec):
    cid = ctl.yield_audio_data(tone(0.5), end=True)
    assert ctl.yield_frames_data(payloads(keyframes(13)), "some-other-conversation") is False
    run(ctl, 0.2)
    assert await rec.take() == [("conversation_state", "playing")]  # no motion: still idle animation
    assert ctl.yield_frames_data(payloads(keyframes(13)), cid) is True
    run(ctl, 0.4)
    assert await rec.take() == [("animation_state", "mono"), ("conversation_state", "idle"),
                                ("animation_state", "idle")]


async def test_conversation_ids_are_unique(ctl):
    ids = {ctl.yield_audio_data(tone(0.04), end=True) for _ in range(50)}
    assert len(ids) == 50


async def test_empty_audio_without_a_round_plays_nothing(ctl, rec):
    assert ctl.yield_audio_data(b"") is None
    assert ctl.yield_audio_data(b"", end=True) is None
    assert await rec.take() == []


async def test_motion_after_interrupt_cannot_restart_a_round(ctl, rec):
    cid = ctl.yield_audio_data(tone(0.5))
    ctl.interrupt()
    with pytest.raises(AvatarError) as err:
        ctl.yield_frames_data("not a list", cid)
    assert err.value.code == ErrorCode.serverError
    assert ctl.yield_frames_data(payloads(keyframes(5)), cid) is False
    assert await rec.take() == [("conversation_state", "playing"), ("conversation_state", "idle")]
