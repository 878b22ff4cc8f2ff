"""The controller's audio output: opening the sink the app chose, and the tick thread a real-time sink needs.

The sink is opened when audio is first needed, so an app can pick another one
(``set_audio_sink``) until then. A real-time sink's clock moves on its own, so rounds must end
and stalls be reported even when no view renders: a :class:`Ticker` then ticks the controller
every ``TICK_S``, holding it only weakly.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref

from ..errors import AvatarError, ErrorCode

log = logging.getLogger("facecast.playback")

AUDIO_SINK_ENV = "FACECAST_AUDIO_SINK"
DEFAULT_AUDIO_SINK = "sounddevice"
TICK_S = 0.01  # state updates without a render loop (real-time sinks only)


def open_sink(choice, options: dict, rate: int, volume: float):
    """Open and start the sink ``choice`` names (a registered name, None for the default, or an instance)."""
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
    sink.set_volume(volume)
    sink.start()
    return sink


class Ticker:
    """A daemon thread calling ``owner._tick()`` every ``TICK_S`` while the owner lives."""

    def __init__(self, owner) -> None:
        self._owner = weakref.ref(owner)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=_tick_loop, args=(self._owner, self._stop),
                                        name="facecast-controller", daemon=True)
        self._thread.start()

    def stop_soon(self) -> threading.Thread | None:
        """Ask the thread to end and return it for the caller to join outside any lock it holds.

        Safe from a finalizer on any thread, the tick thread included.
        """
        self._stop.set()
        thread, self._thread = self._thread, None
        return thread


def _tick_loop(ref: weakref.ref, stop: threading.Event) -> None:
    while not stop.wait(TICK_S):
        owner = ref()
        if owner is None:
            return
        try:
            owner._tick()
        except Exception:
            log.exception("controller tick failed")
        del owner
