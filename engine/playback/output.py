"""``AvatarController``'s audio output: choosing and owning the sink, its volume, and the tick thread.

A mixin of ``AvatarController`` (its attributes are set up in controller.py's ``__init__``);
every method runs under the controller's lock. The sink is opened when audio is first needed,
so an app can pick another one (``set_audio_sink``) until then. A real-time sink's clock moves
on its own, so rounds must end and stalls be reported even when no view renders: a daemon
thread then ticks the controller every ``TICK_S``, holding it only weakly.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
import weakref

from ..errors import AvatarError, ErrorCode

log = logging.getLogger("facecast.playback")

AUDIO_SINK_ENV = "FACECAST_AUDIO_SINK"
DEFAULT_AUDIO_SINK = "sounddevice"
TICK_S = 0.01  # state updates without a render loop (real-time sinks only)


class AudioOutput:

    @property
    def audio_sink(self):
        """The sink playing this controller's audio (None until audio is first needed)."""
        return self._sink

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

    def _ensure_sink(self):
        if self._sink is not None:
            return self._sink
        rate = self._config().audio_format.sample_rate
        choice, options = self._sink_choice
        if choice is None or isinstance(choice, str):
            name = choice or os.environ.get(AUDIO_SINK_ENV) or DEFAULT_AUDIO_SINK
            if choice is None and name == "virtual" and not options:
                # Chosen by the deployment (no sound card), not by a test driving the clock by hand.
                options = {"real_time": True}
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

    def _device_time(self) -> float:
        return self._sink.device_time() if self._sink is not None else time.monotonic()

    def _unpause(self) -> None:
        """Let the sink play again if ``pause()`` stopped it."""
        if self._paused:
            self._paused = False
            self._sink.resume()

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


def _tick_loop(ref: weakref.ref, stop: threading.Event) -> None:
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
