"""Frame starvation: picks the policy a ``frame_starvation_mode`` names, runs it on each tick and
turns its answers into gate and stall changes."""

from __future__ import annotations

from ..contracts.starvation import StarvationDecision
from ..enums import FrameStarvationMode
from ..errors import AvatarError, ErrorCode
from ..motion.layout import MOTION_FPS
from .rounds import PlaybackRound

SEED_POLICIES = {FrameStarvationMode.audioIndependent: "audio_independent",
                 FrameStarvationMode.strictSync: "strict_sync"}
DEFAULT_POLICY = SEED_POLICIES[FrameStarvationMode.audioIndependent]


def policy_name(mode) -> str:
    """The registered policy name for a ``FrameStarvationMode``, its value, or a policy name."""
    if isinstance(mode, FrameStarvationMode):
        return SEED_POLICIES[mode]
    if isinstance(mode, str):
        try:
            return SEED_POLICIES[FrameStarvationMode(mode)]
        except ValueError:
            return mode
    raise AvatarError(ErrorCode.animationPlayerNotInitialized,
                      f"frame_starvation_mode must be a FrameStarvationMode or a policy name, not {mode!r}")


def starvation_mode(name: str):
    """The inverse of :func:`policy_name`: the seed's mode for a seed policy, else the name itself."""
    for mode, seed_name in SEED_POLICIES.items():
        if seed_name == name:
            return mode
    return name


def make_policy(name: str):
    """A fresh instance of the registered policy ``name``, checked against the contract."""
    from ..plugins import get_plugin_manager

    try:
        factory = get_plugin_manager().get("starvation_policies", name).factory
    except KeyError as exc:
        raise AvatarError(ErrorCode.animationPlayerNotInitialized,
                          f"unknown frame starvation mode: {exc.args[0]}; the seed's modes are "
                          "'audioIndependent' and 'strictSync'") from None
    policy = factory()
    for attr in ("decide", "reset", "holds_audio"):
        if not hasattr(policy, attr):
            raise AvatarError(ErrorCode.animationPlayerNotInitialized,
                              f"starvation policy {name!r} has no {attr}; see engine.contracts.StarvationPolicy")
    return policy


class StarvationRunner:
    """Per-controller state around one ``StarvationPolicy``: when starvation began, whether audio stalls."""

    def __init__(self, policy) -> None:
        self.policy = policy
        self.stalled = False  # on_playback_stall(True) was reported and not yet cleared
        self._starved_since: float | None = None

    def reset(self) -> None:
        self.policy.reset()
        self.stalled = False
        self._starved_since = None

    def initial_limit(self, rnd: PlaybackRound) -> int | None:
        """Where the sink must stop for a new round: at its start when audio waits for motion."""
        return rnd.start_pos if self.policy.holds_audio and not rnd.motion_ended else None

    def tick(self, rnd: PlaybackRound, t: float, position: int, device_now: float, sample_rate: int,
             audio_waiting: bool) -> tuple[StarvationDecision, float, int | None, bool | None]:
        """One tick: (decision, starved_for_s, sink limit or None, stall change or None).

        ``audio_waiting``: audio is queued beyond the current position (so holding it is a stall).
        """
        if rnd.motion_ended:
            change = False if self.stalled else None
            self.stalled = False
            self._starved_since = None
            return StarvationDecision.PLAY, 0.0, None, change
        frames_end_t = rnd.frames_end / MOTION_FPS
        starved = t >= frames_end_t - 1e-9
        if starved:
            if self._starved_since is None:
                self._starved_since = device_now
            starved_for = device_now - self._starved_since
        else:
            self._starved_since = None
            starved_for = 0.0
        buffered = max(0, rnd.frames_end - int(t * MOTION_FPS))
        decision = StarvationDecision(self.policy.decide(starved, starved_for, buffered))
        limit = None
        change = None
        if self.policy.holds_audio:
            covered = rnd.covered_pos(sample_rate)
            if decision == StarvationDecision.PAUSE_AUDIO:
                limit = min(covered, max(position, rnd.start_pos))
                if not self.stalled and audio_waiting and position >= limit:
                    self.stalled, change = True, True
            else:
                limit = covered
                if self.stalled:
                    self.stalled, change = False, False
        return decision, starved_for, limit, change
