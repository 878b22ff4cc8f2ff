"""Idle loop sampling and the blends between idle and speaking."""

import numpy as np
import pytest

from engine import AvatarError
from engine.motion.idle import IdleLoop
from engine.motion.transitions import IDLE_TO_SPEAKING_S, SPEAKING_TO_IDLE_S, TransitionBlender

D = 21


def ramp(count):
    kf = np.zeros((count, D), np.float32)
    kf[:, 0] = np.arange(count)
    return kf


def test_idle_loop_interpolates_and_wraps_to_the_first_frame():
    idle, out = IdleLoop(ramp(4)), np.empty(D, np.float32)
    assert idle.duration == pytest.approx(4 / 25)
    assert idle.sample(1.5 / 25, out)[0] == pytest.approx(1.5)
    assert idle.sample(3.5 / 25, out)[0] == pytest.approx(1.5)  # halfway from frame 3 back to frame 0
    assert idle.sample(4 / 25 + 1 / 25, out)[0] == pytest.approx(1.0)
    assert idle.sample(-1 / 25, out)[0] == pytest.approx(3.0)
    assert idle.sample(float("nan"), out)[0] == 0.0


def test_idle_loop_rejects_empty_or_broken_tracks():
    with pytest.raises(AvatarError, match="non-empty"):
        IdleLoop(np.zeros((0, D), np.float32))
    with pytest.raises(AvatarError, match="NaN"):
        IdleLoop(np.full((2, D), np.nan, np.float32))


def test_default_durations_are_5_and_40_motion_frames():
    assert IDLE_TO_SPEAKING_S == pytest.approx(0.2) and SPEAKING_TO_IDLE_S == pytest.approx(1.6)


def test_transition_starts_at_the_pose_on_screen_and_ends_at_the_target():
    blender, out = TransitionBlender(D), np.empty(D, np.float32)
    on_screen = np.full(D, 5.0, np.float32)
    target = np.zeros(D, np.float32)
    blender.start(on_screen, IDLE_TO_SPEAKING_S, t=10.0)
    assert blender.apply(target, 10.0, out) and out[0] == pytest.approx(5.0)  # no jump
    assert blender.apply(target, 10.1, out) and out[0] == pytest.approx(2.5)  # smoothstep midpoint
    previous = 5.0
    for t in np.linspace(10.0, 10.2, 11)[1:]:
        blender.apply(target, t, out)
        assert out[0] <= previous  # monotonic towards the target
        previous = out[0]
    assert not blender.apply(target, 10.2, out) and not blender.active and out[0] == 0.0
    blender.start(on_screen, IDLE_TO_SPEAKING_S, t=10.0)
    assert not blender.apply(target, float("nan"), out) and out[0] == 0.0


def test_target_keeps_moving_during_the_blend_and_zero_duration_switches_at_once():
    blender, out = TransitionBlender(D), np.empty(D, np.float32)
    blender.start(np.zeros(D, np.float32), SPEAKING_TO_IDLE_S, t=0.0)
    moving = np.full(D, 4.0, np.float32)
    blender.apply(moving, 0.8, out)
    assert out[0] == pytest.approx(2.0)
    blender.start(out, 0.0, t=0.8)
    assert not blender.apply(moving, 0.8, out) and out[0] == 4.0


def test_transition_arguments_are_checked():
    blender = TransitionBlender(D)
    with pytest.raises(AvatarError, match="shape"):
        blender.start(np.zeros(D + 1, np.float32), 0.2)
    with pytest.raises(AvatarError, match="duration"):
        blender.start(np.zeros(D, np.float32), -1.0)
