"""Built-in frame-starvation policies: ``audio_independent``, ``strict_sync``, ``hold_last``, ``ease_to_idle``.

Each is a small state machine over the controller's per-tick report (see
``engine.contracts.StarvationPolicy``); none of them touches audio or poses itself.
"""

from __future__ import annotations

import engine
from engine.contracts import StarvationDecision

PLAY, HOLD, EASE, PAUSE = (StarvationDecision.PLAY, StarvationDecision.HOLD,
                           StarvationDecision.EASE_TO_IDLE, StarvationDecision.PAUSE_AUDIO)


class AudioIndependent:
    """Audio plays on; motion holds the last pose, then eases to idle if the stall lasts.

    When motion returns, the controller shows the keyframe for the current clock (a jump
    forward, or an ease back from idle), because motion is never allowed to lag the audio.
    """

    holds_audio = False

    def __init__(self, hold_seconds: float = 0.24, ease_seconds: float = 0.3) -> None:
        self.hold_seconds = hold_seconds
        self.ease_seconds = ease_seconds

    def decide(self, starved, starved_for_s, buffered_frames):
        if not starved:
            return PLAY
        return HOLD if starved_for_s < self.hold_seconds else EASE

    def reset(self):
        pass


class StrictSync:
    """Audio waits at the first missing keyframe and resumes once ``refill_frames`` are buffered."""

    holds_audio = True
    ease_seconds = 0.3

    def __init__(self, refill_frames: int = 2) -> None:
        self.refill_frames = refill_frames
        self._stalled = False

    def decide(self, starved, starved_for_s, buffered_frames):
        if starved:
            self._stalled = True
            return PAUSE
        if self._stalled and buffered_frames < self.refill_frames:
            return PAUSE
        self._stalled = False
        return PLAY

    def reset(self):
        self._stalled = False


class HoldLast:
    """Audio plays on; the last pose stays until motion returns, however long that takes."""

    holds_audio = False
    ease_seconds = 0.3

    def decide(self, starved, starved_for_s, buffered_frames):
        return HOLD if starved else PLAY

    def reset(self):
        pass


class EaseToIdle:
    """Audio plays on; the face relaxes into the idle loop as soon as motion runs out."""

    holds_audio = False

    def __init__(self, ease_seconds: float = 0.2) -> None:
        self.ease_seconds = ease_seconds

    def decide(self, starved, starved_for_s, buffered_frames):
        return EASE if starved else PLAY

    def reset(self):
        pass


@engine.hookimpl
def register_starvation_policies(register):
    register("audio_independent", AudioIndependent)
    register("strict_sync", StrictSync)
    register("hold_last", HoldLast)
    register("ease_to_idle", EaseToIdle)
