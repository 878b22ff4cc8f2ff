"""``AvatarController``'s observable state — conversation, animation, connection — and its events.

A mixin of ``AvatarController`` (its attributes are set up in controller.py's ``__init__``).
State changes happen under the controller's one re-entrant lock and only *queue* their event;
``_dispatch`` hands the queue to the ``EventDispatcher`` after the lock is released, so an app
callback never runs under the lock (it may call back into the controller from another thread).
"""

from __future__ import annotations

from contextlib import contextmanager

from ..enums import AnimationType, ConnectionState, ConversationState
from ..errors import AvatarError, ErrorCode


class PlaybackState:

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

    def _emit_error(self, error: AvatarError) -> None:
        with self._lock:
            self._queue("on_error", error)
        self._dispatch()

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

    @property
    def conversation_state(self) -> ConversationState:
        return self._state

    @property
    def animation_state(self) -> AnimationType:
        return self._animation

    @property
    def connection_state(self) -> ConnectionState:
        return self._connection


def _resolve_soon(future) -> None:
    """Complete an asyncio future from any thread (the state may change on the render thread)."""
    loop = future.get_loop()
    if loop.is_closed():
        return
    loop.call_soon_threadsafe(lambda: future.done() or future.set_result(None))
