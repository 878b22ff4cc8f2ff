"""What the avatar shows: the idle loop, the speech pose, and the blends between them.

The maths (slerp/lerp blending, the idle loop, smoothstep transitions) is ``engine.motion``'s;
this class only owns the pose vectors of one controller and decides what blends into what.
"""

from __future__ import annotations

import numpy as np

from ..motion.idle import IdleLoop
from ..motion.interpolate import blend_pose
from ..motion.transitions import IDLE_TO_SPEAKING_S, SPEAKING_TO_IDLE_S, TransitionBlender

IDLE_TO_SPEECH_S = IDLE_TO_SPEAKING_S
SPEECH_TO_IDLE_S = SPEAKING_TO_IDLE_S
INTERRUPT_TO_IDLE_S = 0.2  # an interrupt should look prompt, not like the end of a sentence
EASE_AFTER_MOTION_S = 0.4  # speech motion shorter than its audio: relax into idle over this


class PoseMixer:
    """Pose vectors of one controller (render-tick data, used under the controller's lock)."""

    def __init__(self, idle: np.ndarray) -> None:
        self.idle_loop = IdleLoop(idle)
        dim = self.idle_loop.dim
        self.idle = np.zeros(dim, np.float32)  # idle loop pose this tick
        self.speech = np.zeros(dim, np.float32)  # speech pose (the last one shown while starved)
        self.last = np.zeros(dim, np.float32)  # last pose output
        self._eased = np.zeros(dim, np.float32)
        self._transition = TransitionBlender(dim)
        self.idle_loop.sample(0.0, self.last)

    def sample_idle(self, anim_t: float) -> np.ndarray:
        return self.idle_loop.sample(anim_t, self.idle)

    def begin_transition(self, anim_t: float, duration: float) -> None:
        """Blend from what is on screen now to whatever the target becomes, over ``duration`` s."""
        self._transition.start(self.last, duration, anim_t)

    @property
    def in_transition(self) -> bool:
        return self._transition.active

    def output(self, target: np.ndarray, anim_t: float, out: np.ndarray) -> None:
        self._transition.apply(target, anim_t, out)
        self.last[:] = out

    def ease(self, from_pose: np.ndarray, to_pose: np.ndarray, w: float) -> np.ndarray:
        blend_pose(from_pose, to_pose, float(w), self._eased)
        return self._eased
