"""The frame-starvation policy contract."""

from __future__ import annotations

import enum
from typing import Protocol, runtime_checkable


class StarvationDecision(enum.IntEnum):
    """What the render tick should do this frame."""

    PLAY = 0  # motion covers the clock: show the interpolated pose
    HOLD = 1  # show the last pose shown
    EASE_TO_IDLE = 2  # blend from the last pose towards the idle loop
    PAUSE_AUDIO = 3  # hold, and hold the audio until motion refills (strict sync)


@runtime_checkable
class StarvationPolicy(Protocol):
    """Decides, once per render tick, what to do when motion runs behind the audio clock.

    Rules: called on the render thread; must not block, allocate or raise;
    ``reset()`` is called at every round start and interrupt.
    """

    def decide(self, starved: bool, starved_for_s: float, buffered_frames: int) -> StarvationDecision: ...

    def reset(self) -> None: ...
