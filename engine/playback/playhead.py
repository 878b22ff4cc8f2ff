"""The playhead: the app's audio on its way to the sink, rounds on the audio clock, and the pose they show.

The heard sample position is the only clock: :meth:`Playhead.update` reads it once per tick,
derives the round time from it and decides from it alone whether the round ended, starves or
shows speech (DESIGN.md §2). The playhead knows nothing of transports or driving modes: what
it changed that a driver must hear (a round opened, closed or dropped) it keeps for
:meth:`take_round_changes`, and what the app must hear it puts on the ``EventQueue``. It never
calls back into its owner. Not thread-safe on its own: the controller calls it under its lock.
"""

from __future__ import annotations

import collections
import time

import numpy as np

from ..contracts.starvation import StarvationDecision
from ..enums import AnimationType, ConversationState
from ..errors import AvatarError, ErrorCode
from ..motion.layout import MOTION_FPS
from .events import EventQueue
from .monitor import FrameRateMonitor
from .pose import EASE_AFTER_MOTION_S, IDLE_TO_SPEECH_S, INTERRUPT_TO_IDLE_S, SPEECH_TO_IDLE_S, PoseMixer
from .rounds import PlaybackRound, new_conversation_id
from .starvation import DEFAULT_POLICY, StarvationRunner, make_policy

MAX_QUEUED_S = 600.0  # bound on audio accepted but not yet heard

OPENED, CLOSED, DROPPED = "opened", "closed", "dropped"


class Playhead:
    """One controller's playback: sink, pending audio, the current round, starvation, pose mixing."""

    def __init__(self, idle: np.ndarray, events: EventQueue) -> None:
        self.mixer = PoseMixer(idle)
        self.dim = self.mixer.idle_loop.dim
        self.events = events
        self.sink = None
        self.round: PlaybackRound | None = None
        self.round_time = 0.0  # of the current (or last) round, on the audio clock
        self.pose_time: float | None = None  # round time the last pose drew; None: it drew no speech
        self.anim_time = 0.0  # device seconds while not paused: drives the idle loop and blends
        self.state = ConversationState.idle
        self.animation = AnimationType.idle
        self.policy_name = DEFAULT_POLICY
        self.monitor = FrameRateMonitor()
        self.monitor_enabled = False
        self._pending: collections.deque[np.ndarray] = collections.deque()
        self._limit: int | None = None
        self._runner: StarvationRunner | None = None
        self._decision = (StarvationDecision.PLAY, 0.0)
        self._ease_since: float | None = None
        self._paused = False
        self._last_device_time: float | None = None
        self._motion = None  # one MotionBuffer, reused round after round
        self._changes: list[tuple[str, str]] = []

    # ------------------------------------------------------------------ the sink and the policy

    def attach_sink(self, sink) -> None:
        self.sink = sink
        self._last_device_time = None
        self.monitor.reset(None)  # the device clock replaces the monotonic one: a window never spans both

    def detach_sink(self):
        """Give up the sink (the caller closes it); the next audio needs a new one."""
        sink, self.sink = self.sink, None
        self.monitor.reset(None)
        return sink

    def set_policy(self, name: str, policy) -> None:
        self.policy_name = name
        self._runner = StarvationRunner(policy)
        if not policy.holds_audio:
            self._apply_limit(None)

    def _policy(self) -> StarvationRunner:
        if self._runner is None:
            self._runner = StarvationRunner(make_policy(self.policy_name))
        return self._runner

    def _apply_limit(self, limit: int | None) -> None:
        if limit != self._limit:
            self._limit = limit
            if self.sink is not None:
                self.sink.set_limit(limit)

    # ------------------------------------------------------------------ what drivers must hear

    def take_round_changes(self) -> list[tuple[str, str]]:
        """``(OPENED | CLOSED | DROPPED, conversation id)`` in the order they happened, since the last call."""
        changes, self._changes = self._changes, []
        return changes

    def active_round(self) -> PlaybackRound | None:
        rnd = self.round
        return rnd if rnd is not None and not rnd.finished else None

    def wants_motion(self) -> str | None:
        """The id of the round that takes motion now, or None (no round, finished, or audio-only)."""
        rnd = self.round
        return None if rnd is None or rnd.finished or rnd.audio_only else rnd.id

    def motion_ended(self, conversation_id: str) -> bool:
        rnd = self.round
        return bool(rnd is not None and rnd.id == conversation_id and rnd.motion_ended)

    # ------------------------------------------------------------------ the tick

    def device_time(self) -> float:
        return self.sink.device_time() if self.sink is not None else time.monotonic()

    def update(self) -> int:
        """Advance clocks and round state; returns the heard stream position."""
        now = self.device_time()
        if self._last_device_time is None:
            self._last_device_time = now
        if not self._paused:
            self.anim_time += max(0.0, now - self._last_device_time)
        self._last_device_time = now
        sink = self.sink
        if sink is None:
            return 0
        self._pump()
        position = sink.position()
        rnd = self.round
        if rnd is None or rnd.finished:
            return position
        rate = sink.sample_rate
        self.round_time = rnd.time_at(position, rate)
        if rnd.reached_end(position):
            self._finish_round(rnd)
            return position
        if rnd.audio_only:
            return position
        waiting = bool(self._pending) or sink.write_position() > position
        runner = self._policy()
        decision, starved_for, limit, change = runner.tick(rnd, self.round_time, position, now, rate, waiting)
        # An ease to idle runs from the first tick the policy asked for it, not from the stall's start.
        if decision == StarvationDecision.EASE_TO_IDLE:
            if self._ease_since is None:
                self._ease_since = now
            self._decision = (decision, now - self._ease_since)
        else:
            if self._ease_since is not None and decision == StarvationDecision.PLAY:
                self.mixer.begin_transition(self.anim_time, IDLE_TO_SPEECH_S)  # motion is back
            self._ease_since = None
            self._decision = (decision, starved_for)
        if runner.policy.holds_audio or self._limit is not None:
            self._apply_limit(limit)
        if change is not None:
            self.events.put("on_playback_stall", change)
        if not rnd.speech_shown and rnd.frames_end > 0 and self.state == ConversationState.playing \
                and decision == StarvationDecision.PLAY:
            rnd.speech_shown = True
            self.mixer.begin_transition(self.anim_time, IDLE_TO_SPEECH_S)
            self._set_animation(AnimationType.mono)
        return position

    def _pump(self) -> None:
        """Move queued audio into the sink's ring as space allows."""
        sink = self.sink
        pending = self._pending
        while pending:
            chunk = pending[0]
            n = sink.write(chunk)
            if n < chunk.shape[0]:
                pending[0] = chunk[n:]
                return
            pending.popleft()
        rnd = self.round
        if rnd is not None and rnd.audio_ended:
            sink.end_of_stream()

    # ------------------------------------------------------------------ audio in, round lifecycle

    def accept_audio(self, pcm: np.ndarray, end: bool, audio_only: bool) -> str | None:
        """Queue one chunk of the app's audio (a sink is attached); the round's id, None if nothing plays."""
        sink = self.sink
        rnd = self.round
        if rnd is None or rnd.finished or rnd.audio_ended:
            if pcm.shape[0] == 0:
                return None
            rnd = self._begin_round(sink, audio_only)
        queued_s = (rnd.end_pos - sink.position() + pcm.shape[0]) / sink.sample_rate
        if queued_s > MAX_QUEUED_S:
            raise AvatarError(ErrorCode.playbackStartFailed,
                              f"{queued_s:.0f} s of audio would be waiting to play (limit {MAX_QUEUED_S:.0f} s); "
                              "send audio at most as fast as it plays")
        if pcm.shape[0]:
            self._pending.append(pcm)
            rnd.written += pcm.shape[0]
        if end:
            rnd.audio_ended = True
        self.update()
        return rnd.id

    def _begin_round(self, sink, audio_only: bool) -> PlaybackRound:
        old = self.round
        if old is not None and not old.finished:
            self._drop_round(old)  # new audio after end=True interrupts what still plays
        self._animate_idle(INTERRUPT_TO_IDLE_S)  # the old round's speech stops; this one's has not begun
        cid = new_conversation_id()
        motion = None
        if not audio_only:
            motion = self._motion_buffer()
            motion.begin_round(cid)
        rnd = PlaybackRound(cid, sink.write_position(), motion)
        self.round = rnd
        self.round_time = 0.0
        self._decision = (StarvationDecision.PLAY, 0.0)
        self._ease_since = None
        runner = self._policy()
        runner.reset()
        self._apply_limit(runner.initial_limit(rnd))
        self._unpause()
        self._changes.append((OPENED, cid))
        self._set_state(ConversationState.playing)
        return rnd

    def _finish_round(self, rnd: PlaybackRound) -> None:
        rnd.finished = True
        self._apply_limit(None)
        if self._runner is not None:
            self._runner.reset()
        self._changes.append((CLOSED, rnd.id))
        self._set_state(ConversationState.idle)
        self._animate_idle(SPEECH_TO_IDLE_S)

    def _drop_round(self, rnd: PlaybackRound) -> None:
        """Stop ``rnd`` now: drop its queued audio and motion."""
        rnd.finished = True
        self._pending.clear()
        if self.sink is not None:
            self.sink.flush()
        self._apply_limit(None)
        if self._runner is not None:
            if self._runner.stalled:
                self.events.put("on_playback_stall", False)
            self._runner.reset()
        if rnd.motion is not None:
            rnd.motion.clear()
        self._changes.append((DROPPED, rnd.id))

    def _motion_buffer(self):
        if self._motion is None:
            from ..motion.buffer import MotionBuffer

            self._motion = MotionBuffer(self.dim)
        return self._motion

    # ------------------------------------------------------------------ the app's controls

    def pause(self) -> None:
        if self.state != ConversationState.playing:
            return
        self.update()
        self._paused = True
        self.sink.pause()
        self._set_state(ConversationState.paused)

    def resume(self) -> None:
        if self.state != ConversationState.paused:
            return
        self._unpause()
        self._set_state(ConversationState.playing)
        self.update()

    def interrupt(self) -> None:
        rnd = self.active_round()
        if rnd is not None:
            self._drop_round(rnd)
            self.round_time = 0.0
        self._unpause()
        self._set_state(ConversationState.idle)
        self._animate_idle(INTERRUPT_TO_IDLE_S)

    def stop(self) -> None:
        """Drop whatever plays, saying nothing to the app (the controller is being disposed)."""
        rnd = self.active_round()
        if rnd is not None:
            self._drop_round(rnd)

    def _unpause(self) -> None:
        if self._paused:
            self._paused = False
            self.sink.resume()

    # ------------------------------------------------------------------ motion in

    def push_motion(self, decoded) -> None:
        """Add one decoded animation message (``engine.wire.DecodedAnimation``) to the round taking motion."""
        rnd = self.round
        count = decoded.keyframes.shape[0]
        accepted = rnd.motion.push(rnd.id, decoded.start_frame, decoded.keyframes, decoded.end) if count or \
            decoded.end else 0
        if accepted:  # the buffer knows what it holds (duplicates, late and overflowing frames left out)
            last = rnd.motion.last_frame_time
            rnd.frames_end = max(rnd.frames_end, int(round(last * MOTION_FPS)) + 1 if last is not None else 0)
        if rnd.motion.ended:  # the final message was accepted (a refused one does not end the round)
            rnd.motion_ended = True
        self.monitor.keyframes_received(accepted, count - accepted)

    def make_audio_only(self, conversation_id: str) -> bool:
        """The app says ``conversation_id`` gets no motion; False when it is not the round playing."""
        rnd = self.active_round()
        if rnd is None or rnd.id != conversation_id:
            return False
        self.drop_motion()
        return True

    def drop_motion(self) -> None:
        """No motion comes for the round playing: its audio plays on, no longer held for motion."""
        rnd = self.active_round()
        if rnd is not None and not rnd.audio_only:
            rnd.make_audio_only()
            self._apply_limit(None)  # else strict sync holds the audio at its start for good
            if self._runner is not None and self._runner.stalled:
                self._runner.stalled = False
                self.events.put("on_playback_stall", False)

    # ------------------------------------------------------------------ the render tick

    def enable_monitor(self, enabled: bool) -> None:
        self.monitor_enabled = enabled
        self.monitor.reset(None)

    def pose(self, out: np.ndarray) -> None:
        """Fill ``out`` (float32[D], checked by the caller) with the pose to draw now."""
        position = self.update()
        mixer = self.mixer
        idle = mixer.sample_idle(self.anim_time)
        target = idle
        rnd = self.round
        frame_index = None
        speaking = rnd is not None and not rnd.finished and rnd.speech_shown
        if speaking:
            target, frame_index = self._speech_target(rnd, idle)
        self.pose_time = self.round_time if speaking else None
        mixer.output(target, self.anim_time, out)
        if self.monitor_enabled:
            self._monitor_tick(position, speaking, frame_index)

    def _speech_target(self, rnd: PlaybackRound, idle: np.ndarray) -> tuple[np.ndarray, int | None]:
        mixer = self.mixer
        t = self.round_time
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
        sink = self.sink
        if speaking and sink is not None:
            # How far the clock moved while this pose was computed: what the viewer sees late.
            offset = (sink.position() - position) / sink.sample_rate
        info = self.monitor.tick(self.device_time(), speaking, position, frame_index, offset)
        if info is not None:
            self.events.put("on_frame_rate_info", info)

    # ------------------------------------------------------------------ states

    def _set_state(self, state: ConversationState) -> None:
        if state != self.state:
            self.state = state
            self.events.put("on_conversation_state", state)

    def _set_animation(self, kind: AnimationType) -> None:
        if kind != self.animation:
            self.animation = kind
            self.events.put("on_animation_state", kind)

    def _animate_idle(self, duration: float) -> None:
        """Blend from the speech on screen back into the idle loop over ``duration`` s, if speech shows."""
        if self.animation != AnimationType.idle:
            self.mixer.begin_transition(self.anim_time, duration)
            self._set_animation(AnimationType.idle)
