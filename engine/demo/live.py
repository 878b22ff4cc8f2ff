"""Live demo: a window and the real audio device (or a real-time virtual sink when there is none).

:class:`LiveApp` behaves like an app: after the speech the avatar idles in its window until the window
is closed (noticed at any time) or the app is told to quit; R, space or Enter speaks the last clip
again, Esc or Q quits, and an audio file dropped on the window, or a path given on stdin, is spoken.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import TextIO

import attrs
import numpy as np

from ..enums import ConversationState

log = logging.getLogger("facecast.demo")

CLOSE_POLL_S = 0.1  # how often the app looks whether the window was closed


@contextlib.contextmanager
def _stderr_silenced():
    """Send file descriptor 2 to /dev/null: C libraries (PortAudio, ALSA) print there while probing."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def output_device() -> str | None:
    """The default output device's name, or None without PortAudio or without an output device."""
    with _stderr_silenced():
        try:
            import sounddevice

            return str(sounddevice.query_devices(kind="output")["name"])
        except Exception:  # no PortAudio library, or no output device: both mean "no audio here"
            return None


def audio_device_available() -> bool:
    """Whether PortAudio is installed and offers an output device."""
    return output_device() is not None


def choose_sink(controller) -> str:
    """The real device when there is one, else a real-time virtual sink; returns where the audio goes."""
    device = output_device()
    if device is not None:
        controller.set_audio_sink("sounddevice")
        return f"audio: {device} (PortAudio)"
    controller.set_audio_sink("virtual", real_time=True)
    return "audio: no sound card here, so the speech plays silently on a real-time clock (virtual sink)"


async def play_live(view, pcm: np.ndarray, sample_rate: int, *, linger_s: float = 1.5) -> float:
    """Speak ``pcm`` once through ``view.controller`` in real time; returns the seconds it played."""
    controller = view.controller
    log.info(choose_sink(controller))
    await controller.initialize_audio_context()
    await controller.start()
    played = await _speak(controller, pcm, sample_rate)
    await asyncio.sleep(linger_s)  # let the mouth settle into the idle loop on screen
    await controller.close()
    return played


async def _speak(controller, pcm: np.ndarray, sample_rate: int) -> float:
    loop = asyncio.get_running_loop()
    started = loop.time()
    controller.send(pcm, end=True)
    limit = pcm.size / sample_rate + 20.0  # the speech plus generous slack for a slow start
    while controller.conversation_state == ConversationState.playing and loop.time() - started < limit:
        await asyncio.sleep(0.05)
    return loop.time() - started


@attrs.frozen
class Command:
    """What the app was asked to do: ``replay``, ``play`` (with ``path``) or ``quit`` (with ``reason``)."""

    kind: str
    path: str | None = None
    reason: str = ""


@attrs.frozen
class LiveSummary:
    spoken: int  # clips spoken
    seconds: float  # seconds of speech played, all clips together
    reason: str  # why the app ended


class LiveApp:
    """Run the live demo in ``view`` (a Window view) until its window closes or it is told to quit.

    ``load(path) -> pcm`` reads a clip at the session's sample rate; ``commands`` is a text stream of
    lines (a path: speak that file; empty: speak the last clip again), ``sys.stdin`` by default, None
    for none; ``say`` prints one line to the user.
    """

    def __init__(self, view, sample_rate: int, load: Callable[[str], np.ndarray], *,
                 commands: TextIO | None = sys.stdin, say: Callable[[str], None] = print) -> None:
        self.view = view
        self.sample_rate = sample_rate
        self._load = load
        self._commands = commands
        self._say = say
        self._queue: asyncio.Queue[Command] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def post(self, command: Command) -> None:
        """Ask the app for ``command`` from any thread (window callbacks, stdin reader, tests)."""
        if self._loop is not None and self._queue is not None:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, command)

    async def run(self, pcm: np.ndarray) -> LiveSummary:
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        controller = self.view.controller
        self._say(choose_sink(controller))
        await controller.initialize_audio_context()
        await controller.start()
        self._bind_window()
        self._read_commands()
        watcher = asyncio.create_task(self._watch_window())
        self._say("speaking; then the avatar idles. R / space / Enter: speak again, drop an audio file on the "
                  "window or type its path here to speak it, Esc / Q or close the window to quit")
        spoken, seconds, reason = 0, 0.0, ""
        try:
            speech = asyncio.create_task(_speak(controller, pcm, self.sample_rate))
            while True:
                command = await self._queue.get()
                if command.kind == "quit":
                    reason = command.reason
                    break
                if command.kind == "play":
                    try:
                        pcm = await asyncio.to_thread(self._load, command.path)
                    except Exception as exc:  # a bad file is the user's to fix: say so, keep running
                        self._say(f"cannot play {command.path!r}: {exc}")
                        continue
                    self._say(f"speaking {command.path} ({pcm.size / self.sample_rate:.1f} s)")
                seconds += await self._finish(speech)
                spoken += 1
                speech = asyncio.create_task(_speak(controller, pcm, self.sample_rate))
        finally:
            watcher.cancel()
            if not speech.done():
                controller.interrupt()
            seconds += await self._finish(speech)
            spoken += 1
            await controller.close()
        return LiveSummary(spoken, seconds, reason)

    @staticmethod
    async def _finish(speech: asyncio.Task) -> float:
        """Stop waiting for ``speech`` (the audio itself plays on or is interrupted by the next send)."""
        if not speech.done():
            speech.cancel()
            await asyncio.wait([speech])  # unlike awaiting it, never swallows a cancellation of this task
        return 0.0 if speech.cancelled() else speech.result()

    async def _watch_window(self) -> None:
        while self.view.is_rendering_enabled():
            await asyncio.sleep(CLOSE_POLL_S)
        self.post(Command("quit", reason="window closed"))

    def _bind_window(self) -> None:
        """Keys and file drops of the view's glfw window become commands (glfw calls them while polling)."""
        handle = getattr(self.view.container, "handle", None)
        if handle is None:
            return
        import glfw

        def on_key(_win, key, _scancode, action, _mods):
            if action != glfw.PRESS:
                return
            if key in (glfw.KEY_R, glfw.KEY_SPACE, glfw.KEY_ENTER, glfw.KEY_KP_ENTER):
                self.post(Command("replay"))
            elif key in (glfw.KEY_ESCAPE, glfw.KEY_Q):
                self.post(Command("quit", reason="quit key"))

        def on_drop(_win, paths):
            if paths:
                self.post(Command("play", path=paths[0]))

        # Set from this thread while the render thread polls: glfw only stores the pointers, and calls them
        # from its poll on the render thread, which is why they just post to the event loop.
        self._callbacks = (on_key, on_drop)
        glfw.set_key_callback(handle, on_key)
        glfw.set_drop_callback(handle, on_drop)

    def _read_commands(self) -> None:
        """Lines of ``commands`` on a daemon thread (a blocked read must never keep the process alive)."""
        stream = self._commands
        if stream is None:
            return

        def reader():
            for line in stream:
                path = line.strip()
                self.post(Command("play", path=path) if path else Command("replay"))

        threading.Thread(target=reader, name="facecast-demo-stdin", daemon=True).start()
