"""The client transport contract: audio out, animation messages in."""

from __future__ import annotations

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

    Rules:
    - ``connect`` resolves once the session is confirmed, or raises ``AvatarError``
      (``sessionTokenInvalid``, ``sessionTokenExpired``, ``appIDUnrecognized``,
      ``avatarIDUnrecognized``, ``concurrentLimitExceeded``, ``websocketError``...).
    - ``send_audio`` never blocks the loop for long; chunks of one ``req_id`` form a
      round and ``end=True`` closes it. A new ``req_id`` supersedes the last one.
    - ``interrupt(req_id)`` stops the round; nothing more for it reaches the listener.
    - Every queue is bounded; ``close`` releases every socket and task and is idempotent.
    - Errors after ``connect`` go to ``listener.on_error``, never raise out of a task.
    """

    async def connect(self) -> None: ...

    async def send_audio(self, req_id: str, pcm16: bytes, end: bool) -> None: ...

    async def interrupt(self, req_id: str) -> None: ...

    async def close(self) -> None: ...


@runtime_checkable
class BackendFeed(Transport, Protocol):
    """A transport that can also serve backend mode, where the app yields what its server received.

    Backend mode never dials anything: the controller calls these synchronously from
    ``yield_audio_data`` / ``yield_frames_data`` (and ``open_round`` / ``close_round`` also from
    its render or tick thread when a round ends), never with its lock held.

    Rules:
    - ``open_round(id)`` makes ``id`` the current conversation; ``close_round(id=None)`` ends it
      (``None``: whatever is current).
    - ``feed(payloads, id)`` returns the raw envelopes of the current conversation it accepted,
      in order, as ``bytes``; for any other id it drops the whole list and returns ``None``. An
      item that is not bytes-like is an ``AvatarError(serverError)`` naming its index. It never
      blocks and never calls the listener: the controller decodes what it returns.
    """

    def open_round(self, conversation_id: str) -> None: ...

    def close_round(self, conversation_id: str | None = None) -> None: ...

    def feed(self, payloads, conversation_id: str) -> list[bytes] | None: ...
