"""Driving modes: what links the controller's rounds to a transport, one driver per mode.

A driver is told, in order and never under the controller's lock, what happened to the rounds
(``opened``, ``closed``, ``dropped``) and which audio the app gave a round (``audio``). It
answers two questions under the lock: ``accepts`` (is this decoded animation message motion
for that round?) and ``transport_state`` (does this report of its transport end the motion?).
It never calls back into the controller and never touches the playhead: motion it receives
goes back to the controller as a return value (backend) or through the transport's listener
(direct). Adding a driving mode is adding a class with these methods and ``close``; nothing
in the playhead branches on the mode.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from ..enums import ConnectionState
from ..errors import AvatarError, ErrorCode

BACKEND = "backend"
DIRECT = "direct"


class Driver(Protocol):
    """One driving mode (see the module docstring for when each method is called)."""

    connection: ConnectionState  # what ``AvatarController.connection_state`` reports for this mode

    def opened(self, conversation_id: str) -> None:
        """A round began: its audio is being accepted from now on."""

    def closed(self, conversation_id: str) -> None:
        """The round's audio was all heard; it ended by itself."""

    def dropped(self, conversation_id: str) -> None:
        """The round was cut short (interrupt, a new round, dispose): nothing more of it plays."""

    def audio(self, conversation_id: str, pcm: np.ndarray, end: bool) -> None:
        """One chunk of the app's audio (int16, owned by the driver from now on) for the round."""

    def accepts(self, decoded, conversation_id: str) -> bool:
        """Whether ``decoded`` (an ``engine.wire.DecodedAnimation``) is motion for round ``conversation_id``.

        Called under the controller's lock, once per message: cheap, no I/O, never raises.
        """

    def transport_state(self, state: ConnectionState) -> bool:
        """The transport reported ``state`` (under the lock); True when no motion can come any more."""

    async def close(self) -> None:
        """Release the transport; idempotent."""


class BackendDriver:
    """Backend mode: the app's server holds the Motion Server session and yields what it received.

    The transport (a ``BackendFeed``) knows which conversation is current and hands back the
    envelopes it accepted; the controller decodes them. Nothing is streamed from here.
    """

    connection = ConnectionState.disconnected

    def __init__(self, transport, name: str) -> None:
        for method in ("open_round", "close_round", "feed"):
            if not callable(getattr(transport, method, None)):
                raise AvatarError(ErrorCode.networkLayerNotAvailable,
                                  f"transport {name!r} cannot serve backend mode: it has no {method}()")
        self.transport = transport

    def opened(self, conversation_id: str) -> None:
        self.transport.open_round(conversation_id)

    def closed(self, conversation_id: str) -> None:
        self.transport.close_round(conversation_id)

    dropped = closed

    def audio(self, conversation_id: str, pcm: np.ndarray, end: bool) -> None:
        pass  # the app's server already streams this audio to the Motion Server

    def accepts(self, decoded, conversation_id: str) -> bool:
        return True  # feed() already kept only the current conversation's envelopes

    def transport_state(self, state: ConnectionState) -> bool:
        return False  # nothing is dialled in backend mode: the app's server owns the connection

    def feed(self, payloads, conversation_id: str) -> list[bytes] | None:
        """The envelopes of ``payloads`` the transport accepted for the current round; None: a stale id."""
        return self.transport.feed(payloads, conversation_id)

    async def close(self) -> None:
        await self.transport.close()


def make_transport(name: str, *, app_id: str, avatar_id: str, config, session_token, user_id, listener):
    """A new instance of the registered transport ``name`` (any mode), reporting to ``listener``."""
    from ..contracts import TransportContext
    from ..plugins import get_plugin_manager

    try:
        factory = get_plugin_manager().get("transports", name).factory
    except KeyError as exc:
        raise AvatarError(ErrorCode.networkLayerNotAvailable, f"{exc.args[0]}; install the plugin that "
                          "provides it or set Configuration.transport") from None
    context = TransportContext(app_id=app_id, avatar_id=avatar_id, audio_format=config.audio_format,
                               endpoints=config.endpoints(), session_token=session_token, listener=listener,
                               user_id=user_id)
    return factory(context)
