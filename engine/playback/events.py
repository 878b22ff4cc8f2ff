"""Controller events: the ``FrameRateInfo`` value and the dispatcher that runs app callbacks.

Callbacks run on the app's asyncio loop when the controller was used from async code (the
loop is captured then), otherwise on one dispatcher thread — never on the audio callback
thread and never under the controller's lock. An exception in a callback is logged and
swallowed; an ``async def`` callback is scheduled as a task on the loop.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import queue
import threading
from typing import Any, Callable

import attrs

log = logging.getLogger("facecast.playback.events")

EVENT_NAMES = ("on_connection_state", "on_conversation_state", "on_error", "on_animation_state",
               "on_playback_stall", "on_frame_rate_info")
_QUEUE_LIMIT = 1024


@attrs.frozen
class FrameRateInfo:
    """Aggregated playback metrics over ``window_s`` seconds of device time.

    ``render_fps``: render ticks (``frame_pose`` calls) per second; ``motion_fps``: keyframes
    received per second; ``dropped_frames``: keyframes discarded (stale, duplicate, late) or
    skipped over between two ticks; ``repeated_frames``: ticks that showed the same audio
    position as the tick before while a round was playing (stall, pause, hold);
    ``motion_to_audio_offset_ms``: the largest |pose time − audio clock| seen at the end of
    a tick, in milliseconds.
    """

    render_fps: float
    motion_fps: float
    dropped_frames: int
    repeated_frames: int
    motion_to_audio_offset_ms: float
    window_s: float


class EventQueue:
    """The events a controller's parts raised, in order, waiting to be handed to the app.

    The playhead and the drivers only ``put``; the controller ``take``s them once its lock is
    released, so a callback never runs under the lock. One queue keeps the order the changes
    happened in across parts (a connection failing before the stall it ends).
    """

    def __init__(self) -> None:
        self._items: list[tuple[str, tuple]] = []

    def put(self, name: str, *args: Any) -> None:
        self._items.append((name, args))

    def take(self) -> list[tuple[str, tuple]]:
        items, self._items = self._items, []
        return items

    def clear(self) -> None:
        self._items.clear()


class EventDispatcher:
    """Delivers ``(callback, args)`` pairs in order to the captured loop or a dispatcher thread."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: queue.Queue | None = None
        self._thread: threading.Thread | None = None
        self._closed = False

    def capture_loop(self) -> None:
        """Remember the running loop of the calling thread, if any (call from every public method)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._loop = loop

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        loop = self._loop
        return loop if loop is not None and not loop.is_closed() else None

    def emit(self, callback: Callable[..., Any] | None, *args: Any) -> None:
        if callback is None or self._closed:
            return
        loop = self.loop
        if loop is not None:
            try:
                loop.call_soon_threadsafe(self._invoke, callback, args)
                return
            except RuntimeError:  # the loop closed between the check and the call
                self._loop = None
        if self._full():
            log.warning("dropping event for %s: the dispatcher queue is full (a callback blocks)", _name(callback))
            return
        self._thread_queue().put((callback, args))

    def _full(self) -> bool:
        return self._queue is not None and self._queue.qsize() >= _QUEUE_LIMIT

    def _thread_queue(self) -> queue.Queue:
        if self._queue is None:
            self._queue = queue.Queue()
            self._thread = threading.Thread(target=self._run, name="facecast-events", daemon=True)
            self._thread.start()
        return self._queue

    def _run(self) -> None:
        q = self._queue
        while True:
            item = q.get()
            if item is None:
                return
            self._invoke(*item)

    def _invoke(self, callback: Callable[..., Any], args: tuple) -> None:
        try:
            result = callback(*args)
            if inspect.isawaitable(result):
                loop = self.loop
                if loop is not None and loop.is_running():
                    task = asyncio.ensure_future(result, loop=loop)
                    task.add_done_callback(_log_task_failure)
                else:
                    asyncio.run(_await(result))
        except Exception:
            log.exception("an event callback (%s) raised; the engine ignores it", _name(callback))

    def close(self) -> None:
        """Stop the dispatcher thread after the queued events ran; later events are dropped."""
        self._closed = True
        if self._queue is not None:
            self._queue.put(None)
            if self._thread is not None and self._thread is not threading.current_thread():
                self._thread.join(timeout=2.0)
        self._loop = None


async def _await(awaitable):
    return await awaitable


def _log_task_failure(task: asyncio.Future) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("an async event callback raised; the engine ignores it", exc_info=task.exception())


def _name(callback: Callable[..., Any]) -> str:
    return getattr(callback, "__qualname__", repr(callback))
