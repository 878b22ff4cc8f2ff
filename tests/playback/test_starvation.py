"""Motion arriving late under each starvation policy, and third-party policies selected by name."""

from __future__ import annotations

import numpy as np
import pytest

import engine
import engine.plugins
from engine import AvatarError, ErrorCode, FrameStarvationMode
from engine.contracts import StarvationDecision
from engine.motion.interpolate import blend_pose
from engine.plugins import PluginManager

from .conftest import RATE, keyframes, payloads, run, tone


def pose_now(ctl) -> np.ndarray:
    out = np.zeros(ctl._dim, np.float32)
    ctl.frame_pose(out)
    return out


def expected_pose(kf: np.ndarray, t: float) -> np.ndarray:
    x = t * 25
    i = int(np.floor(x))
    out = np.zeros(kf.shape[1], np.float32)
    blend_pose(kf[i], kf[i + 1], x - i, out)
    return out


async def test_strict_sync_pauses_audio_at_the_first_missing_frame(ctl, rec):
    ctl.frame_starvation_mode = FrameStarvationMode.strictSync
    assert ctl.frame_starvation_mode is FrameStarvationMode.strictSync
    kf = keyframes(25)
    cid = ctl.yield_audio_data(tone(1.0), end=True)
    run(ctl, 0.1)  # no motion yet: audio waits at its first sample
    assert ctl.get_audio_time() == 0.0
    assert await rec.take() == [("conversation_state", "playing"), ("playback_stall", True)]
    ctl.yield_frames_data(payloads(kf[:1], end=False), cid)
    assert await rec.take() == []  # one frame is not a refill of two
    ctl.yield_frames_data(payloads(kf[1:10], start=1, end=False), cid)
    assert await rec.take() == [("playback_stall", False), ("animation_state", "mono")]
    run(ctl, 0.6)  # audio runs to the end of frame 9 (0.4 s) and waits there
    assert ctl.get_audio_time() == pytest.approx(0.4, abs=1e-9)
    assert await rec.take() == [("playback_stall", True)]
    ctl.yield_frames_data(payloads(kf[10:], start=10), cid)  # the rest, with the final message
    run(ctl, 0.7)
    assert await rec.take() == [("playback_stall", False), ("conversation_state", "idle"),
                                ("animation_state", "idle")]
    assert ctl.get_audio_time() == pytest.approx(1.0, abs=1e-9)
    sink = ctl.audio_sink
    assert sink.played_samples() == RATE and sink.underruns == 0 and sink.gated_callbacks > 0


async def test_audio_independent_never_pauses_audio(ctl, rec):
    assert ctl.frame_starvation_mode is FrameStarvationMode.audioIndependent  # the seed's default
    kf = keyframes(50)
    cid = ctl.yield_audio_data(tone(2.0), end=True)
    ctl.yield_frames_data(payloads(kf[:10], end=False), cid)
    run(ctl, 1.0)  # motion covers 0.4 s only: the clock runs on regardless
    assert ctl.get_audio_time() == pytest.approx(1.0, abs=1e-9)
    # Starved since 0.4 s: held 0.24 s, then eased over 0.3 s fully into the idle loop.
    idle = ctl._playhead.mixer.idle_loop.sample(ctl._playhead.anim_time, np.zeros(ctl._dim, np.float32))
    np.testing.assert_allclose(pose_now(ctl), idle, atol=1e-5)
    ctl.yield_frames_data(payloads(kf[10:], start=10), cid)  # late motion: back to the frame for the clock
    run(ctl, 0.3)  # past the 0.2 s blend back from idle
    np.testing.assert_allclose(pose_now(ctl), expected_pose(kf, ctl.get_audio_time()), atol=1e-5)
    run(ctl, 0.8)
    assert await rec.take() == [("conversation_state", "playing"), ("animation_state", "mono"),
                                ("conversation_state", "idle"), ("animation_state", "idle")]
    assert ctl.audio_sink.gated_callbacks == 0 and ctl.audio_sink.played_samples() == 2 * RATE


async def test_hold_last_keeps_the_last_keyframe(ctl, rec):
    ctl.frame_starvation_mode = "hold_last"
    kf = keyframes(25)
    cid = ctl.yield_audio_data(tone(2.0), end=True)
    ctl.yield_frames_data(payloads(kf[:10], end=False), cid)
    run(ctl, 1.5)
    assert ctl.get_audio_time() == pytest.approx(1.5, abs=1e-9)
    np.testing.assert_array_equal(pose_now(ctl), kf[9])
    assert await rec.take() == [("conversation_state", "playing"), ("animation_state", "mono")]


async def test_ease_to_idle_relaxes_at_once(ctl, rec):
    ctl.frame_starvation_mode = "ease_to_idle"
    kf = keyframes(25)
    cid = ctl.yield_audio_data(tone(2.0), end=True)
    ctl.yield_frames_data(payloads(kf[:10], end=False), cid)
    run(ctl, 0.4)
    assert not np.allclose(pose_now(ctl), ctl._playhead.mixer.idle, atol=1e-3)
    run(ctl, 0.26)  # 0.2 s of easing after starvation began at 0.4 s
    idle = ctl._playhead.mixer.idle_loop.sample(ctl._playhead.anim_time, np.zeros(ctl._dim, np.float32))
    np.testing.assert_allclose(pose_now(ctl), idle, atol=1e-5)
    assert ctl.get_audio_time() == pytest.approx(0.66, abs=1e-9)


class WaitForFive:
    """A third-party policy: audio waits for motion and restarts only with five frames in hand."""

    holds_audio = True
    ease_seconds = 0.3

    def __init__(self):
        self.waiting = False

    def decide(self, starved, starved_for_s, buffered_frames):
        if starved or (self.waiting and buffered_frames < 5):
            self.waiting = True
            return StarvationDecision.PAUSE_AUDIO
        self.waiting = False
        return StarvationDecision.PLAY

    def reset(self):
        self.waiting = False


class ThirdPartyPlugin:
    @engine.hookimpl
    def register_starvation_policies(self, register):
        register("wait_for_five", WaitForFive)


@pytest.fixture
def third_party(monkeypatch):
    manager = PluginManager([("acme_policies", ThirdPartyPlugin())])
    monkeypatch.setattr(engine.plugins, "_manager", manager)
    return manager


async def test_a_registered_third_party_policy_is_selected_by_name(third_party, ctl, rec):
    ctl.frame_starvation_mode = "wait_for_five"
    assert ctl.frame_starvation_mode == "wait_for_five"
    kf = keyframes(25)
    cid = ctl.yield_audio_data(tone(1.0), end=True)
    ctl.yield_frames_data(payloads(kf[:4], end=False), cid)
    run(ctl, 0.3)
    assert ctl.get_audio_time() == 0.0  # 4 frames buffered: not enough for this policy
    ctl.yield_frames_data(payloads(kf[4:6], start=4, end=False), cid)
    run(ctl, 0.3)
    assert ctl.get_audio_time() == pytest.approx(0.24, abs=1e-9)
    assert await rec.take() == [("conversation_state", "playing"), ("playback_stall", True),
                                ("playback_stall", False), ("animation_state", "mono"), ("playback_stall", True)]


async def test_an_unknown_policy_name_is_refused(ctl):
    with pytest.raises(AvatarError) as err:
        ctl.frame_starvation_mode = "no_such_policy"
    assert err.value.code == ErrorCode.animationPlayerNotInitialized
    assert "strict_sync" in err.value.message and "no_such_policy" in err.value.message
    with pytest.raises(AvatarError):
        ctl.frame_starvation_mode = 3


async def test_strict_sync_waits_where_a_full_motion_buffer_refused_frames(ctl, rec):
    """More motion than the buffer holds (60 s): audio stops where the accepted frames end."""
    ctl.frame_starvation_mode = "strict_sync"
    kf = keyframes(1750)
    cid = ctl.yield_audio_data(tone(70.0), end=True)
    ctl.yield_frames_data(payloads(kf, per_message=250), cid)
    run(ctl, 65.0, tick_s=0.5)
    assert ctl.get_audio_time() == pytest.approx(60.0, abs=1e-9)
    ctl.yield_frames_data(payloads(kf[1500:], start=1500, per_message=250), cid)  # resent once there is room
    run(ctl, 11.0, tick_s=0.5)
    assert await rec.take() == [("conversation_state", "playing"), ("playback_stall", True),  # no motion yet
                                ("playback_stall", False), ("animation_state", "mono"),
                                ("playback_stall", True), ("playback_stall", False),  # the refused tail
                                ("conversation_state", "idle"), ("animation_state", "idle")]


async def test_strict_sync_plays_a_round_the_app_made_audio_only(ctl, rec):
    ctl.frame_starvation_mode = FrameStarvationMode.strictSync
    cid = ctl.yield_audio_data(tone(0.5), end=True)
    run(ctl, 0.2)
    assert ctl.get_audio_time() == 0.0  # held at the start: its motion has not come
    assert ctl.yield_frames_data([], cid) is True  # none will: the app says so
    run(ctl, 0.6)
    assert ctl.get_audio_time() == pytest.approx(0.5)
    assert ("conversation_state", "idle") in await rec.take()
