"""``AvatarController``: plays speech audio and the motion that goes with it, locked to the audio clock.

The audio sink's heard sample position is the only clock: a round's time is
``(position - round start) / sample_rate`` and the pose shown is the keyframe interpolated at
that time (DESIGN.md §2). Everything here runs on the app's or the render thread under one
re-entrant lock; the sink's device callback never touches it. Events are queued under the
lock and dispatched after it is released (``engine.playback.events``).

The class is assembled from mixins that share that one lock and the state ``__init__`` sets up:
``PlaybackState`` (state, events, the ``_session`` every public entry runs in), ``AudioOutput``
(the sink, volume, tick thread), ``RoundEngine`` (rounds on the audio clock, starvation),
``RenderTick`` (``frame_pose``), ``BackendMode`` and ``DirectMode`` (the two driving modes).
This module holds construction, the controls common to both modes, and ``dispose``.
"""

from __future__ import annotations

import collections
import logging
import threading
import weakref

import numpy as np

from ..contracts.starvation import StarvationDecision
from ..enums import AnimationType, ConnectionState, ConversationState, DrivingServiceMode
from ..errors import AvatarError, ErrorCode
from ..motion.layout import motion_dim
from ..sdk import AvatarSDK
from .backend import BackendMode
from .connection import CONNECT_TIMEOUT_S, DirectLink
from .direct import DirectMode
from .events import EVENT_NAMES, EventDispatcher
from .monitor import FrameRateMonitor
from .output import AudioOutput
from .pose import INTERRUPT_TO_IDLE_S, PoseMixer
from .render_tick import RenderTick
from .round_engine import RoundEngine
from .rounds import Round
from .starvation import DEFAULT_POLICY, StarvationRunner
from .state import PlaybackState

log = logging.getLogger("facecast.playback")


class AvatarController(PlaybackState, AudioOutput, RoundEngine, RenderTick, BackendMode, DirectMode):
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
        self._policy_name = DEFAULT_POLICY
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

    @staticmethod
    def _config():
        return AvatarSDK.require_initialized("AvatarController")

    def _require_mode(self, mode: DrivingServiceMode, what: str, instead: str) -> None:
        actual = self._config().driving_service_mode
        if actual != mode:
            raise AvatarError(ErrorCode.playbackStartFailed,
                              f"{what} is for {mode.value} mode but the SDK is configured for {actual.value} "
                              f"mode; use {instead}, or initialize with driving_service_mode={mode.value!r}")

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
            self._unpause()
            self._set_state(ConversationState.playing)
            self._update()

    def interrupt(self) -> None:
        """Stop now: drop queued audio and motion, tell the transport, end in idle. Idempotent."""
        with self._session():
            rnd = self._round
            if rnd is not None and not rnd.finished:
                self._drop_round(rnd)
                self._round_time = 0.0
            self._unpause()
            self._set_state(ConversationState.idle)
            self._animate_idle(INTERRUPT_TO_IDLE_S)

    def get_audio_time(self) -> float:
        """Seconds of the current (or last) round heard so far, from the audio clock."""
        with self._session(check=False):
            self._update()
            return self._round_time

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
        for name in EVENT_NAMES:
            setattr(self, name, None)


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
