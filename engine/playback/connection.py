"""The controller's link to a transport plugin — connect with a deadline, send, interrupt, close.

If the transport cannot connect within ``connect_timeout_s`` (15 s, as the seed's fallback
rule says) or fails with a network error, the link reports ``failed`` and the controller
keeps playing audio without animation (audio-only fallback). Credential failures are raised
to the caller of ``start()`` too, because retrying cannot fix them.
"""

from __future__ import annotations

import asyncio
import logging
import weakref

from ..enums import ConnectionState
from ..errors import AvatarError, ErrorCode

log = logging.getLogger("facecast.playback.connection")

CONNECT_TIMEOUT_S = 15.0
CREDENTIAL_CODES = frozenset({
    ErrorCode.sessionTokenInvalid, ErrorCode.sessionTokenExpired, ErrorCode.appIDUnrecognized,
    ErrorCode.avatarIDUnrecognized, ErrorCode.insufficientBalance, ErrorCode.concurrentLimitExceeded,
})
_OUTBOX_LIMIT = 4096  # chunks; the controller also bounds queued audio by duration


class ControllerListener:
    """The ``TransportListener`` handed to a transport of either mode; forwards to the controller.

    It names the driving mode its transport serves, so the controller asks that mode's driver
    what a report means. It holds the controller weakly: a transport's running tasks must not
    keep a view that the app dropped without ``dispose()`` alive.
    """

    def __init__(self, controller, mode: str) -> None:
        self._controller = weakref.ref(controller)
        self._mode = mode

    def on_animation(self, message: bytes) -> None:
        controller = self._controller()
        if controller is not None:
            controller._on_transport_animation(self._mode, message)

    def on_connection_state(self, state: ConnectionState) -> None:
        controller = self._controller()
        if controller is not None:
            controller._on_transport_state(self._mode, ConnectionState(state))

    def on_error(self, error: AvatarError) -> None:
        controller = self._controller()
        if controller is not None:
            controller._emit_error(error)


class DirectLink:
    """One transport instance and the task that feeds it, on the loop that called ``start``."""

    def __init__(self, transport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport = transport
        self.loop = loop
        self._outbox: asyncio.Queue = asyncio.Queue(_OUTBOX_LIMIT)
        self._sender: asyncio.Task | None = None
        self._closed = False

    async def connect(self, timeout_s: float) -> None:
        """Connect within ``timeout_s``; raises ``AvatarError`` (``sessionTimeout`` on the deadline)."""
        try:
            await asyncio.wait_for(self.transport.connect(), timeout_s)
        except asyncio.TimeoutError:
            raise AvatarError(ErrorCode.sessionTimeout,
                              f"the Motion Server did not confirm the session within {timeout_s:g} s; "
                              "playing audio without animation (audio-only fallback)") from None
        except AvatarError:
            raise
        except Exception as exc:  # a transport that broke its contract: still a connection failure
            raise AvatarError(ErrorCode.websocketError, f"the transport failed to connect: {exc!r}") from exc
        self._sender = self.loop.create_task(self._send_loop(), name="facecast-direct-sender")

    def post(self, item: tuple) -> None:
        """Queue ``("audio", req_id, pcm, end)`` or ``("interrupt", req_id)`` from any thread."""
        if self._closed:
            return
        try:
            if _on_loop(self.loop):
                self._put(item)
            else:
                self.loop.call_soon_threadsafe(self._put, item)
        except RuntimeError:  # the loop is gone; nothing can be sent any more
            self._closed = True

    def _put(self, item: tuple) -> None:
        try:
            self._outbox.put_nowait(item)
        except asyncio.QueueFull:
            log.error("direct transport outbox full (%d chunks); dropping a %s", _OUTBOX_LIMIT, item[0])

    async def _send_loop(self) -> None:
        while True:
            item = await self._outbox.get()
            try:
                if item[0] == "audio":
                    await self.transport.send_audio(item[1], item[2], item[3])
                else:
                    await self.transport.interrupt(item[1])
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the transport failed to send a %s; continuing", item[0])

    async def close(self) -> None:
        if self._closed and self._sender is None:
            return
        self._closed = True
        if self._sender is not None:
            self._sender.cancel()
            try:
                await self._sender
            except asyncio.CancelledError:
                pass
            self._sender = None
        await self.transport.close()


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
