"""The client transport contract: audio out, animation messages in."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import attrs

from ..config import AudioFormat, Endpoints
from ..enums import ConnectionState
from ..errors import AvatarError


class TransportListener(Protocol):
    """What the controller offers a transport. Every method is cheap and never raises.

    Call these from the controller's event loop (the loop that called
    ``Transport.connect``); they only queue work.
    """

    def on_animation(self, message: bytes) -> None:
        """One raw ``SERVER_RESPONSE_ANIMATION`` envelope, exactly as received."""

    def on_connection_state(self, state: ConnectionState) -> None:
        """The transport's connection moved to ``state`` (fired as the transition starts)."""

    def on_error(self, error: AvatarError) -> None:
        """A failure the app should hear about; the transport decides whether it is fatal."""


@attrs.frozen
class TransportContext:
    """Everything a transport needs to start; built by the controller."""

    app_id: str
    avatar_id: str
    audio_format: AudioFormat
    endpoints: Endpoints
    session_token: str | None
    listener: TransportListener
    user_id: str | None = None


@runtime_checkable
class Transport(Protocol):
    """Carries one controller's audio rounds to the Motion Server and motion back.

    Made by ``factory(context: TransportContext) -> Transport`` (the ``register_transports``
    hook), once per controller; an app selects it with ``Configuration(transport=name)``. The
    protocol a network transport speaks is docs/protocol.md.

    Rules (``facecast conformance --transport NAME`` checks each one a test can observe;
    docs/plugins.md maps every rule to its check):

    1. The factory dials nothing; nothing happens before ``connect()``.
    2. ``connect()`` reports ``connecting`` to the listener, then returns once the session is
       confirmed (having reported ``connected``), or raises ``AvatarError`` with the SDK code of
       the refusal (``sessionTokenInvalid`` for a missing or forged token, ``appIDUnrecognized``,
       ``avatarIDUnrecognized``, ``sessionTokenExpired``, ``concurrentLimitExceeded``,
       ``websocketError``...). A second ``connect()`` while one runs raises
       ``connectionInProgress``.
    3. ``send_audio(req_id, pcm16, end)`` never blocks the loop for long; chunks of one
       ``req_id`` form a round and ``end=True`` closes it. A new ``req_id`` supersedes the last
       one. Every ``SERVER_RESPONSE_ANIMATION`` envelope goes to ``listener.on_animation`` as the
       exact bytes received, in order, once.
    4. ``interrupt(req_id)`` stops the round: once it has returned nothing more of that round
       reaches the listener, including what was already in flight.
    5. Every queue is bounded. Errors after ``connect`` go to ``listener.on_error`` (an
       ``AvatarError``) with a state change, never raise out of a task; a transport that
       reconnects by itself carries new rounds again once it reports ``connected``.
    6. ``close()`` releases every socket and task (the server's session ends, nothing more
       reaches the listener), reports ``disconnected`` and is idempotent.
    """

    async def connect(self) -> None: ...

    async def send_audio(self, req_id: str, pcm16: bytes, end: bool) -> None: ...

    async def interrupt(self, req_id: str) -> None: ...

    async def close(self) -> None: ...


@runtime_checkable
class BackendFeed(Transport, Protocol):
    """A transport that serves backend mode, where the app yields what its own server received.

    Selected with ``Configuration(driving_service_mode="backend", transport=name)`` (built in:
    ``backend``). Backend mode never dials anything: the controller calls these synchronously
    from ``yield_audio_data`` / ``yield_frames_data`` (and ``open_round`` / ``close_round`` also
    from its render or tick thread when a round ends), never with its lock held.

    Rules (``facecast conformance --backend-feed NAME`` checks each one a test can observe;
    docs/plugins.md maps every rule to its check):

    1. ``connect()`` dials nothing and reports no error; ``close()`` is idempotent.
    2. ``open_round(id)`` makes ``id`` the current conversation (so does ``send_audio(id, ...)``);
       ``close_round(id)`` ends it if it is current, ``close_round(None)`` whatever is current;
       ``interrupt(id)`` ends it too.
    3. ``feed(payloads, id)`` returns the raw envelopes of the current conversation it accepted,
       in order, as ``bytes`` (``bytes``, ``bytearray`` and ``memoryview`` items are accepted);
       for any other id it drops the whole list and returns ``None``. It never blocks and never
       calls the listener: the controller decodes what it returns.
    4. A ``payloads`` that is not a list, or an item that is not bytes-like, is
       ``AvatarError(serverError)``; the message names the item's index.
    5. After ``close()``, ``feed`` passes nothing on: it returns ``None`` or raises ``AvatarError``.
    """

    def open_round(self, conversation_id: str) -> None: ...

    def close_round(self, conversation_id: str | None = None) -> None: ...

    def feed(self, payloads: Sequence[bytes | bytearray | memoryview],
             conversation_id: str) -> list[bytes] | None: ...
