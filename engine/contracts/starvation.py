"""The frame-starvation policy contract."""

from __future__ import annotations

import enum
from typing import Protocol, runtime_checkable


class StarvationDecision(enum.IntEnum):
    """What the render tick should do this frame."""

    PLAY = 0  # show the interpolated pose for the audio clock (let gated audio run again)
    HOLD = 1  # show the last pose shown
    EASE_TO_IDLE = 2  # blend from the last pose shown towards the idle loop
    PAUSE_AUDIO = 3  # hold the pose, and keep audio held where motion runs out (strict sync)


@runtime_checkable
class StarvationPolicy(Protocol):
    """Decides, once per render tick of a round that has motion, what to show and whether audio waits.

    The controller calls ``decide`` with:
    - ``starved``: the audio clock has reached the end of the motion received so far and the
      round's motion has not ended;
    - ``starved_for_s``: device seconds since starvation began (0 when not starved);
    - ``buffered_frames``: keyframes received ahead of the audio clock.

    ``holds_audio`` True means audio is never allowed past the motion received: the
    controller stops the sink at the end of the covered motion while this policy keeps
    answering ``PAUSE_AUDIO``, reports ``on_playback_stall(True)`` when audio actually waits
    and ``on_playback_stall(False)`` when the policy answers ``PLAY`` again.
    ``ease_seconds`` is how long an ``EASE_TO_IDLE`` blend takes.

    Made by ``factory()`` (the ``register_starvation_policies`` hook), one per controller; an app
    selects it with ``controller.frame_starvation_mode = name``.

    Rules (``facecast conformance --starvation-policy NAME`` checks each one a test can observe;
    docs/plugins.md maps every rule to its check):

    1. ``holds_audio`` is a bool and ``ease_seconds`` a finite number ≥ 0.
    2. ``decide`` answers a ``StarvationDecision`` for every input and never raises.
    3. With motion covering the clock (not starved, frames buffered) it answers ``PLAY``, and it
       comes back to ``PLAY`` once motion has caught up after a stall.
    4. Only a policy with ``holds_audio`` True answers ``PAUSE_AUDIO``, and such a policy
       answers it on every starved tick.
    5. It is deterministic, and ``reset()`` (called at every round start and interrupt) restores
       its initial state.
    6. It is called on the render tick with the controller's state lock held, so it must not
       block, allocate, call back into the controller or raise.
    """

    holds_audio: bool
    ease_seconds: float

    def decide(self, starved: bool, starved_for_s: float, buffered_frames: int) -> StarvationDecision: ...

    def reset(self) -> None: ...
