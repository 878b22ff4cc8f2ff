"""``AvatarController``'s rounds: audio in, the sink fed, motion buffered, the starvation policy run.

A mixin of ``AvatarController`` (its attributes are set up in controller.py's ``__init__``);
every method runs under the controller's lock. The heard sample position is the only clock:
``_update`` reads it once per tick, derives the round time from it and decides from it alone
whether the round ended, starves or shows speech (DESIGN.md §2).
"""

from __future__ import annotations

import numpy as np

from ..contracts.starvation import StarvationDecision
from ..enums import AnimationType, ConversationState
from ..errors import AvatarError, ErrorCode
from ..motion.layout import MOTION_FPS
from .pose import IDLE_TO_SPEECH_S, INTERRUPT_TO_IDLE_S, SPEECH_TO_IDLE_S
from .rounds import Round, new_conversation_id
from .starvation import StarvationRunner, make_policy, policy_name, starvation_mode

MAX_QUEUED_S = 600.0  # bound on audio accepted but not yet heard


class RoundEngine:

    @property
    def frame_starvation_mode(self):
        """``FrameStarvationMode`` (default ``audioIndependent``) or the name of a registered policy."""
        return starvation_mode(self._policy_name)

    @frame_starvation_mode.setter
    def frame_starvation_mode(self, mode) -> None:
        name = policy_name(mode)
        policy = make_policy(name)
        with self._session():
            self._policy_name = name
            self._runner = StarvationRunner(policy)
            if not policy.holds_audio:
                self._apply_limit(None)

    def _policy(self) -> StarvationRunner:
        if self._runner is None:
            self._runner = StarvationRunner(make_policy(self._policy_name))
        return self._runner

    def _apply_limit(self, limit: int | None) -> None:
        if limit != self._limit:
            self._limit = limit
            if self._sink is not None:
                self._sink.set_limit(limit)

    # ------------------------------------------------------------------ the tick

    def _update(self) -> int:
        """Advance clocks and round state; returns the heard stream position. Lock held."""
        now = self._device_time()
        if self._last_device_time is None:
            self._last_device_time = now
        if not self._paused:
            self._anim_time += max(0.0, now - self._last_device_time)
        self._last_device_time = now
        sink = self._sink
        if sink is None:
            return 0
        self._pump()
        position = sink.position()
        rnd = self._round
        if rnd is None or rnd.finished:
            return position
        rate = sink.sample_rate
        self._round_time = rnd.time_at(position, rate)
        if rnd.reached_end(position):
            self._finish_round(rnd)
            return position
        if rnd.audio_only:
            return position
        waiting = bool(self._pending) or sink.write_position() > position
        decision, starved_for, limit, change = self._policy().tick(rnd, self._round_time, position, now,
                                                                   rate, waiting)
        # An ease to idle runs from the first tick the policy asked for it, not from the stall's start.
        if decision == StarvationDecision.EASE_TO_IDLE:
            if self._ease_since is None:
                self._ease_since = now
            self._decision = (decision, now - self._ease_since)
        else:
            if self._ease_since is not None and decision == StarvationDecision.PLAY:
                self._mixer.begin_transition(self._anim_time, IDLE_TO_SPEECH_S)  # motion is back
            self._ease_since = None
            self._decision = (decision, starved_for)
        if self._policy().policy.holds_audio or self._limit is not None:
            self._apply_limit(limit)
        if change is not None:
            self._queue("on_playback_stall", change)
        if not rnd.speech_shown and rnd.frames_end > 0 and self._state == ConversationState.playing \
                and decision == StarvationDecision.PLAY:
            rnd.speech_shown = True
            self._mixer.begin_transition(self._anim_time, IDLE_TO_SPEECH_S)
            self._set_animation(AnimationType.mono)
        return position

    def _pump(self) -> None:
        """Move queued audio into the sink's ring as space allows."""
        sink = self._sink
        pending = self._pending
        while pending:
            chunk = pending[0]
            n = sink.write(chunk)
            if n < chunk.shape[0]:
                pending[0] = chunk[n:]
                return
            pending.popleft()
        rnd = self._round
        if rnd is not None and rnd.audio_ended:
            sink.end_of_stream()

    # ------------------------------------------------------------------ round lifecycle

    def _accept_audio(self, pcm: np.ndarray, end: bool, audio_only: bool) -> str | None:
        """Queue one chunk of the app's audio (both modes); returns the round's id, None if nothing plays."""
        sink = self._ensure_sink()
        rnd = self._round
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
        self._update()
        return rnd.id

    def _begin_round(self, sink, audio_only: bool) -> Round:
        old = self._round
        if old is not None and not old.finished:
            self._drop_round(old)  # new audio after end=True interrupts what still plays
        self._animate_idle(INTERRUPT_TO_IDLE_S)  # the old round's speech stops; this one's has not begun
        motion = None
        if not audio_only:
            motion = self._motion_buffer()
        cid = new_conversation_id()
        if motion is not None:
            motion.begin_round(cid)
        rnd = Round(cid, sink.write_position(), motion)
        self._round = rnd
        self._round_time = 0.0
        self._decision = (StarvationDecision.PLAY, 0.0)
        self._ease_since = None
        runner = self._policy()
        runner.reset()
        self._apply_limit(runner.initial_limit(rnd))
        self._unpause()
        if self._transport is not None:
            self._transport.open_round(cid)
        self._set_state(ConversationState.playing)
        return rnd

    def _finish_round(self, rnd: Round) -> None:
        rnd.finished = True
        self._apply_limit(None)
        if self._runner is not None:
            self._runner.reset()
        self._close_transport_round(rnd.id)
        self._set_state(ConversationState.idle)
        self._animate_idle(SPEECH_TO_IDLE_S)

    def _drop_round(self, rnd: Round) -> None:
        """Stop ``rnd`` now: drop its queued audio and motion, tell the transport."""
        rnd.finished = True
        self._pending.clear()
        if self._sink is not None:
            self._sink.flush()
        self._apply_limit(None)
        if self._runner is not None:
            if self._runner.stalled:
                self._queue("on_playback_stall", False)
            self._runner.reset()
        if rnd.motion is not None:
            rnd.motion.clear()
        self._close_transport_round(rnd.id)
        if self._link is not None:
            self._link.post(("interrupt", rnd.id))

    def _close_transport_round(self, conversation_id: str) -> None:
        if self._transport is not None:
            self._transport.close_round(conversation_id)

    def _animate_idle(self, duration: float) -> None:
        """Blend from the speech on screen back into the idle loop over ``duration`` s, if speech shows."""
        if self._animation != AnimationType.idle:
            self._mixer.begin_transition(self._anim_time, duration)
            self._set_animation(AnimationType.idle)

    # ------------------------------------------------------------------ motion in

    def _motion_buffer(self):
        if self._motion is None:
            from ..motion.buffer import MotionBuffer

            self._motion = MotionBuffer(self._dim)
        return self._motion

    def _animation_decoder(self):
        if self._decoder is None:
            from ..wire import AnimationDecoder

            self._decoder = AnimationDecoder(self.avatar.expression_count)
        return self._decoder

    def _push_motion(self, rnd: Round, decoded) -> None:
        """Add one decoded animation message (``engine.wire.DecodedAnimation``) to the round's buffer."""
        count = decoded.keyframes.shape[0]
        accepted = rnd.motion.push(rnd.id, decoded.start_frame, decoded.keyframes, decoded.end) if count or \
            decoded.end else 0
        if accepted:  # the buffer knows what it holds (duplicates, late and overflowing frames left out)
            last = rnd.motion.last_frame_time
            rnd.frames_end = max(rnd.frames_end, int(round(last * MOTION_FPS)) + 1 if last is not None else 0)
        if rnd.motion.ended:  # the final message was accepted (a refused one does not end the round)
            rnd.motion_ended = True
        self._monitor.keyframes_received(accepted, count - accepted)
