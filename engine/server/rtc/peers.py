"""The peers of one WebRTC egress: join limits, the connect deadline, dropping one alone, the join watchdog.

Shared by the motion egress (audio track + motion channel) and the rendered-video egress: what
differs is what a peer is sent, not how peers come and go. A peer is any object with ``id``,
``pc`` (an ``RTCPeerConnection``), ``connected`` (an ``asyncio.Event``) and ``closed``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from .join_tokens import JoinRefused
from .settings import RtcSettings

log = logging.getLogger("facecast.server.rtc")


class PeerSet:
    """``reserve()`` before answering an offer, ``add(peer)`` after; ``on_drop(peer)`` hears each peer leave.

    With no peer joined for ``settings.join_timeout_s`` (at the start, or after the last one
    left) it calls ``on_idle_timeout()`` once.
    """

    def __init__(self, connection_id: str, settings: RtcSettings, *, what: str = "peer",
                 on_drop: Callable[[object], None] | None = None,
                 on_idle_timeout: Callable[[], None] | None = None) -> None:
        self.connection_id = connection_id
        self.settings = settings
        self.what = what
        self.peers: dict[str, object] = {}
        self.joins = 0
        self.closed = False
        self._on_drop = on_drop
        self._on_idle_timeout = on_idle_timeout
        self._idle = asyncio.Event()  # no peer is joined
        self._idle.set()
        self._busy = asyncio.Event()  # some peer is joined
        self._watchdog = asyncio.get_running_loop().create_task(self._watch_joins(), name="facecast-rtc-joins")

    def reserve(self) -> None:
        """Take one join (so concurrent joins cannot pass the limit together); :class:`JoinRefused` at a limit."""
        if self.closed:
            raise JoinRefused(404, "sessionNotFound", "the session has ended")
        if self.joins >= self.settings.max_joins:
            raise JoinRefused(429, "joinLimitExceeded", f"this session was joined {self.joins} times, its limit; "
                              "start a new session")
        if len(self.peers) >= self.settings.max_peers:
            raise JoinRefused(409, "peerLimitExceeded", f"{len(self.peers)} {self.what}s are in this session "
                              f"already, its limit; leave with DELETE on the {self.what}'s URL first")
        self.joins += 1

    def release(self) -> None:
        """A reserved join whose offer was refused does not use up a join."""
        self.joins -= 1

    async def add(self, peer) -> None:
        """The answered peer joins: tracked, dropped on failure, held to the connect deadline."""
        if self.closed:
            await peer.pc.close()
            raise JoinRefused(404, "sessionNotFound", f"the session ended while the {self.what} was joining")
        self.peers[peer.id] = peer
        self._idle.clear()
        self._busy.set()

        @peer.pc.on("connectionstatechange")
        def _state() -> None:
            state = peer.pc.connectionState
            if state == "connected":
                peer.connected.set()
            elif state in ("failed", "closed"):
                self.drop_soon(peer, f"its connection is {state}")

        asyncio.get_running_loop().create_task(self._connect_deadline(peer))
        log.info("session %s: %s %s joined (%d of %d joins)", self.connection_id, self.what, peer.id, self.joins,
                 self.settings.max_joins)

    async def leave(self, peer_id: str) -> bool:
        peer = self.peers.get(peer_id)
        if peer is None:
            return False
        await self.drop(peer, "it left")
        return True

    def drop_soon(self, peer, why: str) -> None:
        if not peer.closed:
            asyncio.get_running_loop().create_task(self.drop(peer, why))

    async def drop(self, peer, why: str) -> None:
        if peer.closed:
            return
        peer.closed = True
        self.peers.pop(peer.id, None)
        if not self.peers:
            self._busy.clear()
            self._idle.set()
        log.info("session %s: %s %s closed: %s", self.connection_id, self.what, peer.id, why)
        if self._on_drop is not None:
            self._on_drop(peer)
        await peer.pc.close()

    async def close(self) -> None:
        """End every peer and the watchdog; idempotent."""
        if self.closed:
            return
        self.closed = True
        self._watchdog.cancel()
        await asyncio.gather(*(self.drop(p, "the session ended") for p in list(self.peers.values())),
                             return_exceptions=True)

    async def _connect_deadline(self, peer) -> None:
        try:
            await asyncio.wait_for(peer.connected.wait(), self.settings.connect_timeout_s)
        except asyncio.TimeoutError:
            await self.drop(peer, f"ICE/DTLS did not connect within {self.settings.connect_timeout_s:g} s")

    async def _watch_joins(self) -> None:
        while True:
            await self._idle.wait()
            try:
                await asyncio.wait_for(self._busy.wait(), self.settings.join_timeout_s)
            except asyncio.TimeoutError:
                if self._on_idle_timeout is not None:
                    self._on_idle_timeout()
                return
            await self._idle.wait()
