"""``AvatarController``'s render tick: the pose to draw now, and the frame-rate monitor it feeds.

A mixin of ``AvatarController`` (its attributes are set up in controller.py's ``__init__``).
``AvatarView`` calls :meth:`frame_pose` on its render thread; it advances the round on the
audio clock first (``_update``), so the pose shown is the keyframe interpolated at the round
time being heard.
"""

from __future__ import annotations

import numpy as np

from ..contracts.starvation import StarvationDecision
from ..errors import AvatarError, ErrorCode
from ..motion.layout import MOTION_FPS
from .pose import EASE_AFTER_MOTION_S
from .rounds import Round


class RenderTick:

    @property
    def pose_time(self) -> float | None:
        """Round time (s) on the audio clock that the last ``frame_pose`` drew; None if it drew no speech."""
        return self._pose_time

    @property
    def frame_rate_monitor_enabled(self) -> bool:
        return self._monitor_enabled

    @frame_rate_monitor_enabled.setter
    def frame_rate_monitor_enabled(self, enabled: bool) -> None:
        if not isinstance(enabled, bool):
            raise AvatarError(ErrorCode.animationPlayerNotInitialized,
                              f"frame_rate_monitor_enabled must be True or False, not {enabled!r}")
        with self._lock:
            self._monitor_enabled = enabled
            self._monitor.reset(None)

    def frame_pose(self, out: np.ndarray) -> None:
        """Fill ``out`` (float32[D]) with the pose to draw now: idle, speech at the audio clock, or a blend."""
        if not isinstance(out, np.ndarray) or out.shape != (self._dim,) or out.dtype != np.float32:
            raise AvatarError(ErrorCode.animationPlayerNotInitialized,
                              f"frame_pose needs a float32 array of shape ({self._dim},), got "
                              f"{getattr(out, 'dtype', type(out).__name__)} {getattr(out, 'shape', '')}")
        with self._session(check=False):
            position = self._update()
            mixer = self._mixer
            idle = mixer.sample_idle(self._anim_time)
            target = idle
            rnd = self._round
            frame_index = None
            speaking = rnd is not None and not rnd.finished and rnd.speech_shown
            if speaking:
                target, frame_index = self._speech_target(rnd, idle)
            self._pose_time = self._round_time if speaking else None
            mixer.output(target, self._anim_time, out)
            if self._monitor_enabled:
                self._monitor_tick(position, speaking, frame_index)

    def _speech_target(self, rnd: Round, idle: np.ndarray) -> tuple[np.ndarray, int | None]:
        mixer = self._mixer
        t = self._round_time
        decision, for_s = self._decision
        if decision == StarvationDecision.PLAY:
            if rnd.motion.pose_at(t, mixer.speech):
                return mixer.speech, int(t * MOTION_FPS)
            if rnd.motion_ended:  # the motion is shorter than the audio: relax into idle
                past = t - rnd.frames_end / MOTION_FPS
                return mixer.ease(mixer.speech, idle, past / EASE_AFTER_MOTION_S), None
            return mixer.speech, None
        if decision == StarvationDecision.EASE_TO_IDLE:
            ease_s = getattr(self._policy().policy, "ease_seconds", EASE_AFTER_MOTION_S) or EASE_AFTER_MOTION_S
            return mixer.ease(mixer.speech, idle, for_s / ease_s), None
        return mixer.speech, None  # HOLD / PAUSE_AUDIO

    def _monitor_tick(self, position: int, speaking: bool, frame_index: int | None) -> None:
        offset = 0.0
        sink = self._sink
        if speaking and sink is not None:
            # How far the clock moved while this pose was computed: what the viewer sees late.
            offset = (sink.position() - position) / sink.sample_rate
        info = self._monitor.tick(self._device_time(), speaking, position, frame_index, offset)
        if info is not None:
            self._queue("on_frame_rate_info", info)
