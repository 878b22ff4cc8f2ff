"""``AvatarController``: plays speech audio and the motion that goes with it, locked to the audio clock.

A façade (the seed's API, its events, one lock) over composed parts that never see each other:
the ``Playhead`` (sink, pending audio, rounds on the audio clock, starvation, pose mixing) and
one driver per driving mode used (``engine.playback.drivers``). Every public entry runs in
:meth:`_public_call`: it holds the plain lock while the parts change, then — after releasing
it — tells the drivers what happened to the rounds (those calls reach transport plugins) and
hands the queued events to the ``EventDispatcher``. So no transport call and no app callback
ever runs under the lock, and nothing calls back into a caller while it holds it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from contextlib import contextmanager

import numpy as np

from ..enums import AnimationType, ConnectionState, ConversationState, DrivingServiceMode
from ..errors import AvatarError, ErrorCode
from ..motion.layout import motion_dim
from ..runtime import runtime
from . import audio_input
from .connection import CONNECT_TIMEOUT_S, CREDENTIAL_CODES, ControllerListener, DirectLink
from .direct import DirectDriver
from .drivers import BACKEND, DIRECT, BackendDriver, make_transport
from .events import EVENT_NAMES, EventDispatcher, EventQueue
from .output import Ticker, open_sink
from .playhead import OPENED, Playhead
from .starvation import make_policy, policy_name, starvation_mode

log = logging.getLogger("facecast.playback")


class AvatarController:
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
        for name in EVENT_NAMES:
            setattr(self, name, None)
        self._lock = threading.Lock()
        self._dispatcher = EventDispatcher()
        self._queue = EventQueue()
        self._playhead = Playhead(idle, self._queue)
        self._drivers: dict[str, object] = {}  # one per driving mode used, by mode name
        self._notices: list[tuple[object | None, str, tuple]] = []  # driver calls due after the lock
        self._state_waiters: list[tuple[ConversationState, object]] = []
        self._sink_choice = (audio_sink, dict(sink_options))
        self._volume = 1.0
        self._decoder = None
        self._ticker = Ticker(self)
        self._disposed = False
        # What must be released even if the app drops the view without dispose().
        self._finalizer = weakref.finalize(self, _release, self._ticker, self._playhead, self._dispatcher)

    # ------------------------------------------------------------------ the lock and what follows it

    @contextmanager
    def _public_call(self, check: bool = True):
        """Every public entry: capture the app's loop, then :meth:`_locked`."""
        self._dispatcher.capture_loop()
        with self._locked(check):
            yield

    @contextmanager
    def _locked(self, check: bool = False):
        """Hold the lock; after it, tell the drivers what happened and dispatch the queued events."""
        self._lock.acquire()
        try:
            if check and self._disposed:
                raise AvatarError(ErrorCode.animationPlayerNotInitialized,
                                  "this AvatarController was disposed; create a new AvatarView")
            yield
        finally:
            calls, events = self._collect()
            self._lock.release()
            for driver, method, args in calls:
                getattr(driver, method)(*args)
            for name, args in events:
                self._dispatcher.emit(getattr(self, name, None), *args)

    def _note_rounds(self) -> None:
        """Queue the playhead's round changes for every driver (before any later notice). Lock held."""
        for change, conversation_id in self._playhead.take_round_changes():
            self._notices.append((None, change, (conversation_id,)))

    def _collect(self):
        self._note_rounds()
        notices, self._notices = self._notices, []
        drivers = list(self._drivers.values())
        calls = [(driver, method, args) for target, method, args in notices
                 for driver in ([target] if target is not None else drivers)]
        events = self._queue.take()
        for name, args in events:
            if name == "on_conversation_state":
                for waiter in [w for w in self._state_waiters if w[0] == args[0]]:
                    self._state_waiters.remove(waiter)
                    _resolve_soon(waiter[1])
        return calls, events

    # ------------------------------------------------------------------ configuration and parts

    @staticmethod
    def _config():
        return runtime().require_configuration("AvatarController")

    def _require_mode(self, mode: DrivingServiceMode, what: str, instead: str) -> None:
        actual = self._config().driving_service_mode
        if actual != mode:
            raise AvatarError(ErrorCode.playbackStartFailed,
                              f"{what} is for {mode.value} mode but the SDK is configured for {actual.value} "
                              f"mode; use {instead}, or initialize with driving_service_mode={mode.value!r}")

    def _make_transport(self, name: str, session_token, mode: str):
        """A transport plugin instance for ``mode`` (a plugin call: never under the lock)."""
        sdk = runtime()
        return make_transport(name, app_id=sdk.app_id, avatar_id=self.avatar.id, config=self._config(),
                              session_token=session_token, user_id=sdk.user_id,
                              listener=ControllerListener(self, mode))

    def _ensure_sink(self):
        playhead = self._playhead
        if playhead.sink is None:
            choice, options = self._sink_choice
            sink = open_sink(choice, options, self._config().audio_format.sample_rate, self._volume)
            playhead.attach_sink(sink)
            if sink.real_time:
                self._ticker.start()
        return playhead.sink

    def _direct_driver(self) -> DirectDriver:
        driver = self._drivers.get(DIRECT)
        if driver is None:
            driver = self._drivers[DIRECT] = DirectDriver(self._queue)
        return driver

    def _backend_driver(self) -> BackendDriver:
        """The backend driver, its transport made outside the lock on first use."""
        with self._lock:
            driver = self._drivers.get(BACKEND)
        if driver is not None:
            return driver
        name = self._config().transport or "backend"
        made = BackendDriver(self._make_transport(name, runtime().session_token, BACKEND), name)
        with self._locked():
            driver = self._drivers.setdefault(BACKEND, made)
            rnd = self._playhead.active_round()
            if driver is made and rnd is not None:
                self._notices.append((driver, OPENED, (rnd.id,)))
        return driver

    def _take_motion(self, driver, messages) -> None:
        """The one animation handler: decode each message once, keep it if ``driver`` accepts it. Lock held."""
        playhead = self._playhead
        for message in messages:
            conversation_id = playhead.wants_motion()
            if conversation_id is None:
                return
            if self._decoder is None:
                from ..wire import AnimationDecoder

                self._decoder = AnimationDecoder(self.avatar.expression_count)
            decoded = self._decoder.decode(message)
            if driver.accepts(decoded, conversation_id):
                playhead.push_motion(decoded)

    # ------------------------------------------------------------------ what the transports report

    def _on_transport_animation(self, mode: str, message: bytes) -> None:
        with self._locked():
            driver = self._drivers.get(mode)
            if driver is None:
                return
            try:
                self._take_motion(driver, (message,))
            except AvatarError as error:
                self._queue.put("on_error", error)
            # As after a backend feed: audio held for this motion (strict sync) is released now, not at
            # the next render or clock tick (an offline render only draws again once the audio moved).
            self._playhead.update()

    def _on_transport_state(self, mode: str, state: ConnectionState) -> None:
        with self._locked():
            driver = self._drivers.get(mode)
            if driver is not None and driver.transport_state(state):
                self._playhead.drop_motion()

    def _emit_error(self, error: AvatarError) -> None:
        with self._locked():
            self._queue.put("on_error", error)

    def _tick(self) -> None:
        with self._locked():
            if not self._disposed:
                self._playhead.update()

    # ------------------------------------------------------------------ state and output

    @property
    def conversation_state(self) -> ConversationState:
        return self._playhead.state

    @property
    def animation_state(self) -> AnimationType:
        return self._playhead.animation

    @property
    def connection_state(self) -> ConnectionState:
        for driver in list(self._drivers.values()):
            if driver.connection != ConnectionState.disconnected:
                return driver.connection
        return ConnectionState.disconnected

    @property
    def pose_time(self) -> float | None:
        """Round time (s) on the audio clock that the last ``frame_pose`` drew; None if it drew no speech."""
        return self._playhead.pose_time

    @property
    def audio_sink(self):
        """The sink playing this controller's audio (None until audio is first needed)."""
        return self._playhead.sink

    async def wait_for_conversation_state(self, state, timeout: float | None = None) -> None:
        """Return once the conversation is in ``state`` (now or later); ``TimeoutError`` after ``timeout`` s."""
        state = ConversationState(state)
        future = asyncio.get_running_loop().create_future()
        with self._public_call():
            if self._playhead.state == state:
                return
            waiter = (state, future)
            self._state_waiters.append(waiter)
        try:
            await asyncio.wait_for(future, timeout)
        finally:
            with self._lock:
                if waiter in self._state_waiters:
                    self._state_waiters.remove(waiter)

    def set_audio_sink(self, sink, **options) -> None:
        """Choose the output before audio starts: a registered sink name (with options) or an instance."""
        with self._public_call():
            if self._playhead.active_round() is not None:
                raise AvatarError(ErrorCode.playbackInitFailed,
                                  "cannot change the audio sink while a round plays; interrupt() first")
            old = self._playhead.detach_sink()
            ticker = self._ticker.stop_soon()
            self._sink_choice = (sink, options)
        _join(ticker)
        if old is not None:
            old.close()

    def set_volume(self, volume: float) -> None:
        """Avatar audio volume, 0.0..1.0 (not the system volume)."""
        audio_input.check_volume(volume)
        with self._public_call():
            self._volume = float(volume)
            if self._playhead.sink is not None:
                self._playhead.sink.set_volume(self._volume)

    def get_volume(self) -> float:
        return self._volume

    @property
    def frame_starvation_mode(self):
        """``FrameStarvationMode`` (default ``audioIndependent``) or the name of a registered policy."""
        return starvation_mode(self._playhead.policy_name)

    @frame_starvation_mode.setter
    def frame_starvation_mode(self, mode) -> None:
        name = policy_name(mode)
        policy = make_policy(name)
        with self._public_call():
            self._playhead.set_policy(name, policy)

    @property
    def frame_rate_monitor_enabled(self) -> bool:
        return self._playhead.monitor_enabled

    @frame_rate_monitor_enabled.setter
    def frame_rate_monitor_enabled(self, enabled: bool) -> None:
        if not isinstance(enabled, bool):
            raise AvatarError(ErrorCode.animationPlayerNotInitialized,
                              f"frame_rate_monitor_enabled must be True or False, not {enabled!r}")
        with self._locked():
            self._playhead.enable_monitor(enabled)

    # ------------------------------------------------------------------ the render tick and common controls

    def frame_pose(self, out: np.ndarray) -> None:
        """Fill ``out`` (float32[D]) with the pose to draw now: idle, speech at the audio clock, or a blend."""
        if not isinstance(out, np.ndarray) or out.shape != (self._dim,) or out.dtype != np.float32:
            raise AvatarError(ErrorCode.animationPlayerNotInitialized,
                              f"frame_pose needs a float32 array of shape ({self._dim},), got "
                              f"{getattr(out, 'dtype', type(out).__name__)} {getattr(out, 'shape', '')}")
        with self._public_call(check=False):
            self._playhead.pose(out)

    def pause(self) -> None:
        """Pause audio and animation, keeping every buffer; a no-op unless playing."""
        with self._public_call():
            self._playhead.pause()

    async def resume(self) -> None:
        """Resume after :meth:`pause`; a no-op unless paused."""
        with self._public_call():
            self._playhead.resume()

    def interrupt(self) -> None:
        """Stop now: drop queued audio and motion, tell the transport, end in idle. Idempotent."""
        with self._public_call():
            self._playhead.interrupt()

    def get_audio_time(self) -> float:
        """Seconds of the current (or last) round heard so far, from the audio clock."""
        with self._public_call(check=False):
            self._playhead.update()
            return self._playhead.round_time

    # ------------------------------------------------------------------ backend mode

    def yield_audio_data(self, data, end: bool = False) -> str | None:
        """Play PCM16 mono ``data`` at the configured rate; returns the conversation id, or None if nothing plays."""
        pcm = audio_input.to_pcm16(data, end, "yield_audio_data")
        with self._public_call():
            self._require_mode(DrivingServiceMode.backend, "yield_audio_data", "send(audio, end)")
        self._backend_driver()
        with self._public_call():
            self._ensure_sink()
            return self._playhead.accept_audio(pcm, end, audio_only=False)

    def yield_frames_data(self, payloads, conversation_id: str) -> bool:
        """Feed raw animation messages for ``conversation_id``; True once its final message arrived.

        Payloads for any other conversation are dropped. An empty list makes the conversation audio-only.
        """
        if not isinstance(conversation_id, str) or not conversation_id:
            raise AvatarError(ErrorCode.serverError,
                              "yield_frames_data needs the conversation id returned by yield_audio_data, "
                              f"not {conversation_id!r}")
        with self._public_call():
            self._require_mode(DrivingServiceMode.backend, "yield_frames_data", "the transport (direct mode)")
        driver = self._backend_driver()
        with self._public_call():
            if isinstance(payloads, (list, tuple)) and len(payloads) == 0 \
                    and self._playhead.make_audio_only(conversation_id):
                self._playhead.update()
                return True
        accepted = driver.feed(payloads, conversation_id)  # a plugin call: outside the lock
        with self._public_call(check=False):
            if accepted is not None:
                self._take_motion(driver, accepted)
            self._playhead.update()
            return self._playhead.motion_ended(conversation_id)

    # ------------------------------------------------------------------ direct mode

    async def initialize_audio_context(self) -> None:
        """Open the audio output (the seed asks for this inside a user gesture); idempotent."""
        with self._public_call():
            self._ensure_sink()

    async def start(self) -> None:
        """Connect to the Motion Server through the configured transport (direct mode)."""
        with self._public_call():
            config = self._config()
            self._require_mode(DrivingServiceMode.direct, "start()", "yield_audio_data / yield_frames_data")
            driver = self._direct_driver()
            if driver.busy:
                raise AvatarError(ErrorCode.connectionInProgress,
                                  "start() was already called: the connection is "
                                  f"{driver.connection.value}; close() it before starting again")
            token = runtime().session_token
            if not token:
                raise AvatarError(ErrorCode.sessionTokenInvalid,
                                  "direct mode needs a session token: get one from your backend "
                                  "(POST /v1/console/session-tokens) and call AvatarSDK.set_session_token() first")
            driver.connecting = True  # held while the transport is made outside the lock
        try:
            transport = self._make_transport(config.transport or DIRECT, token, DIRECT)
        except BaseException:
            with self._locked():
                driver.connecting = False
            raise
        link = DirectLink(transport, asyncio.get_running_loop())
        with self._public_call(check=False):
            old = driver.begin(link)
        if old is not None:
            await old.close()
        try:
            await link.connect(self.connect_timeout_s)
        except AvatarError as error:
            with self._public_call(check=False):
                driver.fall_back()
                self._playhead.drop_motion()
                self._queue.put("on_error", error)
            try:
                await link.close()
            except Exception:
                log.exception("closing the failed transport raised")
            if error.code in CREDENTIAL_CODES:
                raise
            log.warning("direct mode: %s", error.message)
            return
        with self._public_call(check=False):
            driver.connected(link)

    def send(self, audio, end: bool = False) -> str | None:
        """Play PCM16 mono ``audio`` locally and stream it to the Motion Server; returns the conversation id."""
        pcm = audio_input.to_pcm16(audio, end, "send")
        with self._public_call():
            self._require_mode(DrivingServiceMode.direct, "send()", "yield_audio_data(data, end)")
            if self._playhead.sink is None:
                raise AvatarError(ErrorCode.audioContextNotInitialized,
                                  "call `await controller.initialize_audio_context()` before send()")
            driver = self._direct_driver()
            if driver.link is None and not driver.fallback:
                raise AvatarError(ErrorCode.networkLayerNotAvailable,
                                  "send() needs a connection: `await controller.start()` first")
            streaming = driver.streaming
            cid = self._playhead.accept_audio(pcm, end, audio_only=not streaming)
            if cid is not None and streaming:
                self._note_rounds()  # the driver hears of a dropped round before the new round's audio
                self._notices.append((driver, "audio", (cid, pcm, end)))
            return cid

    async def close(self) -> None:
        """Close the Motion Server connection (direct mode); playback of queued audio goes on audio-only."""
        with self._public_call():
            link = self._direct_driver().detach()
            self._playhead.drop_motion()
        if link is not None:
            await link.close()

    # ------------------------------------------------------------------ dispose

    def dispose(self) -> None:
        """Release the sink, the transport and the callbacks; idempotent."""
        with self._lock:
            if self._disposed:
                return
            self._disposed = True
            self._playhead.stop()
            self._queue.clear()
            calls, _ = self._collect()
            drivers = list(self._drivers.values())
            self._drivers.clear()
            sink = self._playhead.detach_sink()
            ticker = self._ticker.stop_soon()
        _join(ticker)
        if sink is not None:
            sink.close()
        self._finalizer.detach()
        for driver, method, args in calls:
            getattr(driver, method)(*args)
        for driver in drivers:
            _close_soon(driver, self._dispatcher.loop)
        self._dispatcher.close()
        for name in EVENT_NAMES:
            setattr(self, name, None)


def _release(ticker: Ticker, playhead: Playhead, dispatcher: EventDispatcher) -> None:
    """Finalizer of a controller that was dropped without ``dispose()``: free the device and threads."""
    ticker.stop_soon()
    sink = playhead.sink
    if sink is not None:
        sink.close()
    dispatcher.close()


def _join(thread: threading.Thread | None) -> None:
    if thread is not None and thread is not threading.current_thread():
        thread.join(timeout=2.0)


def _resolve_soon(future) -> None:
    """Complete an asyncio future from any thread (the state may change on the render thread)."""
    loop = future.get_loop()
    if loop.is_closed():
        return
    loop.call_soon_threadsafe(lambda: future.done() or future.set_result(None))


def _close_soon(closer, loop) -> None:
    """Close a driver from sync code: on its loop if one runs, else best effort now."""
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
