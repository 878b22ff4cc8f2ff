"""``AvatarController``: plays speech audio and the motion that goes with it, locked to the audio clock.

The audio sink's heard sample position is the only clock: a round's time is
``(position - round start) / sample_rate`` and the pose shown is the keyframe interpolated at
that time (DESIGN.md §2). Everything here runs on the app's or the render thread under one
re-entrant lock; the sink's device callback never touches it. Events are queued under the
lock and dispatched after it is released (``engine.playback.events``).
"""

from __future__ import annotations

import collections
import logging
import math
import os
import threading
import time
import weakref
from contextlib import contextmanager

import numpy as np

from ..contracts.starvation import StarvationDecision
from ..enums import AnimationType, ConnectionState, ConversationState, DrivingServiceMode, FrameStarvationMode
from ..errors import AvatarError, ErrorCode
from ..motion.layout import MOTION_FPS, motion_dim
from ..sdk import AvatarSDK
from .backend import BackendMode
from .connection import CONNECT_TIMEOUT_S, DirectLink
from .direct import DirectMode
from .events import EventDispatcher
from .monitor import FrameRateMonitor
from .pose import EASE_AFTER_MOTION_S, IDLE_TO_SPEECH_S, INTERRUPT_TO_IDLE_S, SPEECH_TO_IDLE_S, PoseMixer
from .rounds import Round, new_conversation_id
from .starvation import StarvationRunner

log = logging.getLogger("facecast.playback")

AUDIO_SINK_ENV = "FACECAST_AUDIO_SINK"
DEFAULT_AUDIO_SINK = "sounddevice"
MAX_QUEUED_S = 600.0  # bound on audio accepted but not yet heard
TICK_S = 0.01  # state updates without a render loop (real-time sinks only)
_SEED_POLICIES = {FrameStarvationMode.audioIndependent: "audio_independent",
                  FrameStarvationMode.strictSync: "strict_sync"}


class AvatarController(BackendMode, DirectMode):
    """Runtime playback control of one avatar (the seed's ``AvatarController``), both driving modes.

    ``AvatarView`` makes one per view and asks :meth:`frame_pose` for the pose on each render
    tick; with nothing playing, the idle loop plays. ``audio_sink`` picks the output: a sink
    name registered through ``register_audio_sinks`` (default ``$FACECAST_AUDIO_SINK`` or
    ``sounddevice``) with ``sink_options``, or a ready ``AudioSink`` instance.
    """

    connect_timeout_s: float = CONNECT_TIMEOUT_S

    def __init__(self, avatar, view=None, *, audio_sink=None, **sink_options) -> None:
        self.avatar = avatar
        self.view = view
        self._dim = motion_dim(avatar.expression_count)
        idle = np.ascontiguousarray(avatar.idle, dtype=np.float32)
        if idle.ndim != 2 or idle.shape[1] != self._dim or idle.shape[0] == 0:
            raise AvatarError(ErrorCode.animationPlayerNotInitialized,
                              f"avatar {avatar.id!r} has an idle loop of shape {idle.shape}, expected (K>0, {self._dim})")
        self.on_connection_state = None
        self.on_conversation_state = None
        self.on_error = None
        self.on_animation_state = None
        self.on_playback_stall = None
        self.on_frame_rate_info = None
        self._lock = threading.RLock()
        self._events = EventDispatcher()
        self._queued_events: list[tuple[str, tuple]] = []
        self._state_waiters: list[tuple[ConversationState, object]] = []
        self._mixer = PoseMixer(idle)
        self._sink = None
        self._sink_choice = (audio_sink, dict(sink_options))
        self._volume = 1.0
        self._state = ConversationState.idle
        self._animation = AnimationType.idle
        self._connection = ConnectionState.disconnected
        self._round: Round | None = None
        self._round_time = 0.0
        self._pose_time: float | None = None
        self._pending: collections.deque[np.ndarray] = collections.deque()
        self._limit: int | None = None
        self._decision = (StarvationDecision.PLAY, 0.0)
        self._ease_since: float | None = None
        self._policy_name = "audio_independent"
        self._runner: StarvationRunner | None = None
        self._motion = None  # one MotionBuffer, reused round after round
        self._decoder = None
        self._transport = None  # backend mode
        self._link: DirectLink | None = None  # direct mode
        self._connecting = False
        self._fallback = False
        self._paused = False
        self._anim_time = 0.0
        self._last_device_time: float | None = None
        self._monitor = FrameRateMonitor()
        self._monitor_enabled = False
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()
        self._disposed = False
        # What must be released even if the app drops the view without dispose().
        self._held = {"stop": self._stop, "sink": None, "events": self._events}
        self._finalizer = weakref.finalize(self, _release, self._held)

    # ------------------------------------------------------------------ plumbing

    @contextmanager
    def _session(self, check: bool = True):
        """Every public entry: capture the app's loop, hold the lock, dispatch queued events after."""
        self._events.capture_loop()
        with self._lock:
            if check and self._disposed:
                raise AvatarError(ErrorCode.animationPlayerNotInitialized,
                                  "this AvatarController was disposed; create a new AvatarView")
            yield
        self._dispatch()

    def _queue(self, name: str, *args) -> None:
        self._queued_events.append((name, args))

    def _dispatch(self) -> None:
        with self._lock:
            queued, self._queued_events = self._queued_events, []
        for name, args in queued:
            self._events.emit(getattr(self, name, None), *args)

    def _set_state(self, state: ConversationState) -> None:
        if state != self._state:
            self._state = state
            self._queue("on_conversation_state", state)
            for waiter in [w for w in self._state_waiters if w[0] == state]:
                self._state_waiters.remove(waiter)
                _resolve_soon(waiter[1])

    async def wait_for_conversation_state(self, state, timeout: float | None = None) -> None:
        """Return once the conversation is in ``state`` (now or later); ``TimeoutError`` after ``timeout`` s."""
        import asyncio

        state = ConversationState(state)
        future = asyncio.get_running_loop().create_future()
        with self._session():
            if self._state == state:
                return
            waiter = (state, future)
            self._state_waiters.append(waiter)
        try:
            await asyncio.wait_for(future, timeout)
        finally:
            with self._lock:
                if waiter in self._state_waiters:
                    self._state_waiters.remove(waiter)

    def _set_animation(self, kind: AnimationType) -> None:
        if kind != self._animation:
            self._animation = kind
            self._queue("on_animation_state", kind)

    def _set_connection(self, state: ConnectionState) -> None:
        if state != self._connection:
            self._connection = state
            self._queue("on_connection_state", state)

    def _emit_error(self, error: AvatarError) -> None:
        with self._lock:
            self._queue("on_error", error)
        self._dispatch()

    @staticmethod
    def _config():
        return AvatarSDK.require_initialized("AvatarController")

    # ------------------------------------------------------------------ properties

    @property
    def conversation_state(self) -> ConversationState:
        return self._state

    @property
    def animation_state(self) -> AnimationType:
        return self._animation

    @property
    def connection_state(self) -> ConnectionState:
        return self._connection

    @property
    def pose_time(self) -> float | None:
        """Round time (s) on the audio clock that the last ``frame_pose`` drew; None if it drew no speech."""
        return self._pose_time

    @property
    def audio_sink(self):
        """The sink playing this controller's audio (None until audio is first needed)."""
        return self._sink

    @property
    def frame_starvation_mode(self):
        """``FrameStarvationMode`` (default ``audioIndependent``) or the name of a registered policy."""
        for mode, name in _SEED_POLICIES.items():
            if name == self._policy_name:
                return mode
        return self._policy_name

    @frame_starvation_mode.setter
    def frame_starvation_mode(self, mode) -> None:
        name = _policy_name(mode)
        policy = _make_policy(name)
        with self._session():
            self._policy_name = name
            self._runner = StarvationRunner(policy)
            if not policy.holds_audio:
                self._apply_limit(None)

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

    # ------------------------------------------------------------------ audio sink

    def set_audio_sink(self, sink, **options) -> None:
        """Choose the output before audio starts: a registered sink name (with options) or an instance."""
        with self._session():
            if self._round is not None and not self._round.finished:
                raise AvatarError(ErrorCode.playbackInitFailed,
                                  "cannot change the audio sink while a round plays; interrupt() first")
            old, self._sink = self._sink, None
            self._held["sink"] = None
            self._stop_ticker()
            if old is not None:
                old.close()
            self._sink_choice = (sink, options)

    def _ensure_sink(self):
        if self._sink is not None:
            return self._sink
        rate = self._config().audio_format.sample_rate
        choice, options = self._sink_choice
        if choice is None or isinstance(choice, str):
            name = choice or os.environ.get(AUDIO_SINK_ENV) or DEFAULT_AUDIO_SINK
            from ..plugins import get_plugin_manager

            try:
                factory = get_plugin_manager().get("audio_sinks", name).factory
            except KeyError as exc:
                raise AvatarError(ErrorCode.audioContextNotInitialized, str(exc.args[0])) from None
            try:
                sink = factory(rate, **options)
            except AvatarError:
                raise
            except Exception as exc:
                raise AvatarError(ErrorCode.playbackInitFailed,
                                  f"audio sink {name!r} failed to open at {rate} Hz: {exc}. Set "
                                  f"{AUDIO_SINK_ENV}=virtual (no device) or pass audio_sink=...") from exc
        else:
            sink = choice
        if sink.sample_rate != rate:
            raise AvatarError(ErrorCode.playbackInitFailed,
                              f"the audio sink plays {sink.sample_rate} Hz but the SDK's audio_format.sample_rate "
                              f"is {rate} Hz; make the sink at {rate} Hz or reinitialize with sample_rate={sink.sample_rate}")
        sink.set_volume(self._volume)
        sink.start()
        self._sink = sink
        self._held["sink"] = sink
        self._last_device_time = None
        if sink.real_time:
            self._start_ticker()
        return sink

    def _start_ticker(self) -> None:
        self._stop = self._held["stop"] = threading.Event()
        self._ticker = threading.Thread(target=_tick_loop, args=(weakref.ref(self), self._stop),
                                        name="facecast-controller", daemon=True)
        self._ticker.start()

    def _stop_ticker(self) -> None:
        self._stop.set()
        ticker, self._ticker = self._ticker, None
        if ticker is not None and ticker is not threading.current_thread():
            ticker.join(timeout=2.0)

    def _tick(self) -> None:
        with self._lock:
            if self._disposed:
                return
            self._update()
        self._dispatch()

    # ------------------------------------------------------------------ the tick

    def _device_time(self) -> float:
        return self._sink.device_time() if self._sink is not None else time.monotonic()

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

    def _policy(self) -> StarvationRunner:
        if self._runner is None:
            self._runner = StarvationRunner(_make_policy(self._policy_name))
        return self._runner

    def _apply_limit(self, limit: int | None) -> None:
        if limit != self._limit:
            self._limit = limit
            if self._sink is not None:
                self._sink.set_limit(limit)

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

    def _finish_round(self, rnd: Round) -> None:
        rnd.finished = True
        self._apply_limit(None)
        if self._runner is not None:
            self._runner.reset()
        self._close_transport_round(rnd.id)
        self._set_state(ConversationState.idle)
        if self._animation != AnimationType.idle:
            self._mixer.begin_transition(self._anim_time, SPEECH_TO_IDLE_S)
            self._set_animation(AnimationType.idle)

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

    # ------------------------------------------------------------------ render tick

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

    # ------------------------------------------------------------------ audio in (both modes)

    def _accept_audio(self, pcm: np.ndarray, end: bool, audio_only: bool) -> str | None:
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
        if self._animation != AnimationType.idle:  # the old round's speech stops; this one's has not begun
            self._mixer.begin_transition(self._anim_time, INTERRUPT_TO_IDLE_S)
            self._set_animation(AnimationType.idle)
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
        if self._paused:
            self._paused = False
            sink.resume()
        if self._transport is not None:
            self._transport.open_round(cid)
        self._set_state(ConversationState.playing)
        return rnd

    def _motion_buffer(self):
        if self._motion is None:
            from ..motion.buffer import MotionBuffer

            self._motion = MotionBuffer(self._dim)
        return self._motion

    def _push_motion(self, rnd: Round, message: bytes) -> None:
        if self._decoder is None:
            from ..wire import AnimationDecoder

            self._decoder = AnimationDecoder(self.avatar.expression_count)
        decoded = self._decoder.decode(message)
        count = decoded.keyframes.shape[0]
        accepted = rnd.motion.push(rnd.id, decoded.start_frame, decoded.keyframes, decoded.end) if count or \
            decoded.end else 0
        rnd.frames_received += accepted
        rnd.frames_dropped += count - accepted
        if accepted:  # the buffer knows what it holds (duplicates, late and overflowing frames left out)
            last = rnd.motion.last_frame_time
            rnd.frames_end = max(rnd.frames_end, int(round(last * MOTION_FPS)) + 1 if last is not None else 0)
        if rnd.motion.ended:  # the final message was accepted (a refused one does not end the round)
            rnd.motion_ended = True
        self._monitor.keyframes_received(accepted, count - accepted)

    # ------------------------------------------------------------------ common controls

    def pause(self) -> None:
        """Pause audio and animation, keeping every buffer; a no-op unless playing."""
        with self._session():
            if self._state != ConversationState.playing:
                return
            self._update()
            self._paused = True
            self._sink.pause()
            self._set_state(ConversationState.paused)

    async def resume(self) -> None:
        """Resume after :meth:`pause`; a no-op unless paused."""
        with self._session():
            if self._state != ConversationState.paused:
                return
            self._paused = False
            self._sink.resume()
            self._set_state(ConversationState.playing)
            self._update()

    def interrupt(self) -> None:
        """Stop now: drop queued audio and motion, tell the transport, end in idle. Idempotent."""
        with self._session():
            rnd = self._round
            if rnd is not None and not rnd.finished:
                self._drop_round(rnd)
                self._round_time = 0.0
            if self._paused:
                self._paused = False
                self._sink.resume()
            self._set_state(ConversationState.idle)
            if self._animation != AnimationType.idle:
                self._mixer.begin_transition(self._anim_time, INTERRUPT_TO_IDLE_S)
                self._set_animation(AnimationType.idle)

    def get_audio_time(self) -> float:
        """Seconds of the current (or last) round heard so far, from the audio clock."""
        with self._session(check=False):
            self._update()
            return self._round_time

    def set_volume(self, volume: float) -> None:
        """Avatar audio volume, 0.0..1.0 (not the system volume)."""
        if isinstance(volume, bool) or not isinstance(volume, (int, float)) or not math.isfinite(volume) \
                or not 0.0 <= volume <= 1.0:
            raise AvatarError(ErrorCode.playbackStartFailed, f"volume must be a number in 0.0..1.0, not {volume!r}")
        with self._session():
            self._volume = float(volume)
            if self._sink is not None:
                self._sink.set_volume(self._volume)

    def get_volume(self) -> float:
        return self._volume

    def dispose(self) -> None:
        """Release the sink, the transport and the callbacks; idempotent."""
        with self._lock:
            if self._disposed:
                return
            self._disposed = True
            rnd = self._round
            if rnd is not None and not rnd.finished:
                self._drop_round(rnd)
            self._queued_events.clear()
            link, self._link = self._link, None
            transport, self._transport = self._transport, None
            sink, self._sink = self._sink, None
        self._stop_ticker()
        if sink is not None:
            sink.close()
        self._finalizer.detach()
        for closer in (link, transport):
            if closer is not None:
                _close_soon(closer, self._events.loop)
        self._events.close()
        for name in ("on_connection_state", "on_conversation_state", "on_error", "on_animation_state",
                     "on_playback_stall", "on_frame_rate_info"):
            setattr(self, name, None)

    def _require_mode(self, mode: DrivingServiceMode, what: str, instead: str) -> None:
        actual = self._config().driving_service_mode
        if actual != mode:
            raise AvatarError(ErrorCode.playbackStartFailed,
                              f"{what} is for {mode.value} mode but the SDK is configured for {actual.value} "
                              f"mode; use {instead}, or initialize with driving_service_mode={mode.value!r}")


def _resolve_soon(future) -> None:
    """Complete an asyncio future from any thread (the state may change on the render thread)."""
    loop = future.get_loop()
    if loop.is_closed():
        return
    loop.call_soon_threadsafe(lambda: future.done() or future.set_result(None))


def _tick_loop(ref: "weakref.ref[AvatarController]", stop: threading.Event) -> None:
    """Round ends and stalls must happen even when no view renders; holds the controller weakly."""
    while not stop.wait(TICK_S):
        controller = ref()
        if controller is None:
            return
        try:
            controller._tick()
        except Exception:
            log.exception("controller tick failed")
        del controller


def _release(held: dict) -> None:
    """Finalizer of a controller that was dropped without ``dispose()``: free the device and threads."""
    stop = held.get("stop")
    if stop is not None:
        stop.set()
    sink = held.get("sink")
    if sink is not None:
        sink.close()
    events = held.get("events")
    if events is not None:
        events.close()


def _policy_name(mode) -> str:
    if isinstance(mode, FrameStarvationMode):
        return _SEED_POLICIES[mode]
    if isinstance(mode, str):
        try:
            return _SEED_POLICIES[FrameStarvationMode(mode)]
        except ValueError:
            return mode
    raise AvatarError(ErrorCode.animationPlayerNotInitialized,
                      f"frame_starvation_mode must be a FrameStarvationMode or a policy name, not {mode!r}")


def _make_policy(name: str):
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


def _close_soon(closer, loop) -> None:
    """Close a link or transport from sync code: on its loop if one runs, else best effort now."""
    import asyncio

    coro = closer.close()
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is not None:
        running.create_task(coro)
    elif loop is not None and loop.is_running():
        asyncio.run_coroutine_threadsafe(coro, loop)
    else:
        try:
            asyncio.run(coro)
        except Exception:
            log.exception("closing the transport during dispose failed")
