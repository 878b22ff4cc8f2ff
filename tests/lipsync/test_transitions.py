"""Speaking → idle: the mouth closes within the lip-sync budget even though the head settles slowly."""

import numpy as np

from engine.motion import layout
from engine.motion.transitions import MOUTH_BLEND_S, SPEAKING_TO_IDLE_S, TransitionBlender

D = layout.motion_dim(10)


def test_the_mouth_reaches_idle_within_120_ms_while_the_head_takes_the_full_blend():
    speaking = np.zeros(D, np.float32)
    speaking[layout.JAW.start] = 0.2
    speaking[layout.EXPRESSION_OFFSET] = 0.8
    speaking[layout.ROTATION.start] = 0.1
    idle = np.zeros(D, np.float32)
    blender, out = TransitionBlender(D), np.empty(D, np.float32)
    blender.start(speaking, SPEAKING_TO_IDLE_S, t=0.0)
    assert blender.apply(idle, 0.0, out) and out[layout.JAW.start] > 0.19  # no jump at the start
    assert blender.apply(idle, MOUTH_BLEND_S / 2, out) and 0.0 < out[layout.JAW.start] < 0.2
    assert blender.apply(idle, 0.12, out)
    assert out[layout.JAW.start] == 0.0 and out[layout.EXPRESSION_OFFSET] == 0.0
    assert out[layout.ROTATION.start] > 0.09  # the head is still settling
    assert not blender.apply(idle, SPEAKING_TO_IDLE_S, out) and out[layout.ROTATION.start] == 0.0


def test_a_short_transition_keeps_its_own_duration_for_the_mouth():
    blender, out = TransitionBlender(D), np.empty(D, np.float32)
    start = np.ones(D, np.float32) * 0.1
    blender.start(start, 0.05, t=0.0)
    blender.apply(np.zeros(D, np.float32), 0.025, out)
    assert out[layout.JAW.start] == out[layout.ROTATION.start]  # one weight for everything
