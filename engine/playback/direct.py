"""Direct mode's driver: the controller dials the Motion Server itself through a transport plugin.

It owns the ``DirectLink`` (connect with a deadline, the send queue), the connection state the
app sees, and whether the controller is in the seed's audio-only fallback. The controller's
``start()`` / ``close()`` drive it; the transport's listener reports to the controller, which
asks this driver what a report means. Motion arrives through that listener and is kept when
its ``req_id`` is the round's id (the protocol's rule).
"""

from __future__ import annotations

import numpy as np

from ..enums import ConnectionState
from .connection import DirectLink
from .events import EventQueue


class DirectDriver:
    """Direct mode (see the module docstring); a ``Driver``. Called under the controller's lock
    except for the round notices and ``close``."""

    def __init__(self, events: EventQueue) -> None:
        self.events = events
        self.link: DirectLink | None = None
        self.connection = ConnectionState.disconnected
        self.connecting = False  # start() is running: it reports the outcome itself
        self.fallback = False  # audio-only: the link is gone or never came up

    @property
    def streaming(self) -> bool:
        """Audio given now goes to the Motion Server (else it plays audio-only)."""
        return self.link is not None and not self.fallback

    @property
    def busy(self) -> bool:
        return self.connecting or self.connection == ConnectionState.connected

    def begin(self, link: DirectLink) -> DirectLink | None:
        """``start()`` made ``link``; returns the link it replaces (the caller closes it)."""
        old, self.link = self.link, link
        self.connecting = True
        self.fallback = False
        self._set_connection(ConnectionState.connecting)
        return old

    def connected(self, link: DirectLink) -> None:
        self.connecting = False
        if self.link is link:
            self._set_connection(ConnectionState.connected)

    def fall_back(self, state: ConnectionState = ConnectionState.failed) -> None:
        """Audio-only from now on: the transport is gone or never came up."""
        self.connecting = False
        self.fallback = True
        self._set_connection(state)

    def detach(self) -> DirectLink | None:
        """``close()``: forget the link (the caller closes it) and fall back to audio-only."""
        link, self.link = self.link, None
        self.fall_back(ConnectionState.disconnected)
        return link

    def transport_state(self, state: ConnectionState) -> bool:
        """The transport's own report after ``start()``; True when motion stopped for good (fallback)."""
        if self.connecting or self.link is None:
            return False  # start() reports the outcome of connecting itself; after close() nothing
        if state in (ConnectionState.failed, ConnectionState.disconnected):
            self.fall_back(state)
            return True
        if state == ConnectionState.connected:
            self.fallback = False  # rounds started from now on get motion again
        self._set_connection(state)
        return False

    def _set_connection(self, state: ConnectionState) -> None:
        if state != self.connection:
            self.connection = state
            self.events.put("on_connection_state", state)

    # -- the Driver interface -------------------------------------------------------------

    def opened(self, conversation_id: str) -> None:
        pass  # the first audio chunk opens the round on the server

    def closed(self, conversation_id: str) -> None:
        pass  # the server ended it when its final keyframe went out

    def dropped(self, conversation_id: str) -> None:
        link = self.link
        if link is not None:
            link.post(("interrupt", conversation_id))

    def audio(self, conversation_id: str, pcm: np.ndarray, end: bool) -> None:
        link = self.link
        if link is not None:
            link.post(("audio", conversation_id, pcm.astype("<i2", copy=False).tobytes(), bool(end)))

    def accepts(self, decoded, conversation_id: str) -> bool:
        return decoded.req_id == conversation_id  # else motion of a round superseded or interrupted

    async def close(self) -> None:
        link, self.link = self.link, None
        if link is not None:
            await link.close()
