"""The WebRTC egress of one session: its rounds go out to every joined peer as Opus audio + motion packets.

The session hands over what it would have sent on its WebSocket (:meth:`RtcEgress.audio`,
:meth:`~RtcEgress.motion`, :meth:`~RtcEgress.interrupt`); nothing here blocks it. Audio is
resampled to 48 kHz and placed on the :class:`Timeline` that every peer's track paces in real
time. Keyframes and round markers go out on each peer's ordered, reliable data channel as soon
as they exist, stamped with positions on that peer's audio clock, so the receiver can hold the
motion until the audio it belongs to plays. Until the first peer's audio starts, calls are held
(bounded) and replayed, so a backend may start speaking before its client has joined.

Each peer is independent: one that leaves, fails ICE, or stops reading (its channel's buffer
over the limit) is closed alone. Limits — joins per session, peers at once, join timeout, token
expiry — each refuse with their own code.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import secrets

import numpy as np

from ...rtc import framing
from ...rtc.framing import SAMPLES_PER_KEYFRAME, TRACK_RATE
from ...rtc.resample import MonoResampler
from ...rtc.codes import RtcErrorCode
from .join_tokens import JoinRefused
from .peer import ChannelSpec, answer_offer
from .peers import PeerSet
from .settings import RtcSettings
from .timeline import Timeline
from .track import EgressAudioTrack

log = logging.getLogger("facecast.server.rtc")

MOTION_CHANNEL = ChannelSpec(framing.LABEL, framing.CHANNEL_ID)
_OUTBOX = 4096  # items a peer may have waiting for its audio clock to start


class _Round:
    """One req_id on the egress: where it starts, what was sent, and where gaps moved its audio."""

    def __init__(self, req_id: str, start: int, sample_rate: int) -> None:
        self.req_id = req_id
        self.start = start
        self.input = 0  # 48 kHz samples of the round's own audio queued so far
        self.gaps: list[tuple[int, int]] = []  # (input offset, total gap from there on)
        self.frames = 0
        self.audio_end: int | None = None
        self.stopped = False
        self.resampler = MonoResampler(sample_rate, TRACK_RATE)

    def position_of(self, frame_index: int) -> int:
        """Where keyframe ``frame_index`` (the audio it covers begins there) sits on the timeline."""
        offset = frame_index * SAMPLES_PER_KEYFRAME
        gap = 0
        for at, total in self.gaps:
            if at <= offset:
                gap = total
        return self.start + offset + gap

    @property
    def total_gap(self) -> int:
        return self.gaps[-1][1] if self.gaps else 0


class _Peer:
    def __init__(self, peer_id: str, answered, track: EgressAudioTrack) -> None:
        self.id = peer_id
        self.pc = answered.pc
        self.channel = answered.channels[framing.LABEL]
        self.track = track
        self.rounds: set[str] = set()
        self.outbox: collections.deque = collections.deque()
        self.connected = asyncio.Event()
        self.closed = False

    @property
    def ready(self) -> bool:
        return self.track.origin is not None and self.channel.readyState == "open"


class RtcEgress:
    def __init__(self, *, connection_id: str, app_id: str, sample_rate: int, settings: RtcSettings,
                 on_failure=None) -> None:
        self.connection_id = connection_id
        self.app_id = app_id
        self.sample_rate = sample_rate
        self.settings = settings
        self._on_failure = on_failure  # async (code, message): the session reports it and closes
        self.timeline = Timeline()
        self._peers = PeerSet(connection_id, settings, on_drop=self._on_drop, on_idle_timeout=self._join_timeout)
        self.peers = self._peers.peers
        self._round: _Round | None = None
        self._listening = False  # some peer's audio has started: calls apply at once from now on
        self._pending: list[tuple] = []
        self._closed = False

    # -- the session's side -------------------------------------------------------------------------

    def audio(self, req_id: str, pcm: np.ndarray, end: bool) -> None:
        if self._hold(("audio", req_id, pcm, end)):
            return
        rnd = self._round
        if rnd is None or rnd.req_id != req_id:
            rnd = self._begin(req_id)
        if rnd.stopped or rnd.audio_end is not None:
            return
        pcm48 = rnd.resampler.feed(pcm)
        if end:
            pcm48 = np.concatenate([pcm48, rnd.resampler.flush()])
        at, gap = self.timeline.append(pcm48)
        if gap:
            rnd.gaps.append((rnd.input, rnd.total_gap + gap))
            self._broadcast(rnd, ("marker", framing.GAP, at - gap, gap))
        rnd.input += len(pcm48)
        if end:
            rnd.audio_end = self.timeline.end_round()
            self._broadcast(rnd, ("marker", framing.ROUND_END, rnd.audio_end, 0))

    def motion(self, req_id: str, keyframes: np.ndarray, start_frame: int, end: bool) -> None:
        if self._hold(("motion", req_id, keyframes.copy(), start_frame, end)):
            return
        rnd = self._round
        if rnd is None or rnd.req_id != req_id or rnd.stopped:
            return
        last = len(keyframes) - 1
        for i, row in enumerate(keyframes):
            index = start_frame + i
            self._broadcast(rnd, ("keyframe", index, rnd.position_of(index), framing.flame_bytes(row),
                                  end and i == last))
        rnd.frames = start_frame + len(keyframes)

    def interrupt(self, req_id: str) -> None:
        if self._hold(("interrupt", req_id)):
            return
        rnd = self._round
        if rnd is not None and rnd.req_id == req_id and not rnd.stopped:
            self._stop(rnd)

    async def close(self) -> None:
        """End every peer and the watchdog; idempotent."""
        if self._closed:
            return
        self._closed = True
        await self._peers.close()

    # -- rounds -------------------------------------------------------------------------------------

    def _begin(self, req_id: str) -> _Round:
        old = self._round
        if old is not None and not old.stopped:
            self._stop(old)  # a new req_id supersedes the round before it, even one still playing out
        rnd = self._round = _Round(req_id, self.timeline.place(), self.sample_rate)
        for peer in self.peers.values():
            peer.rounds.add(req_id)
        self._broadcast(rnd, ("marker", framing.ROUND_START, rnd.start, 0))
        return rnd

    def _stop(self, rnd: _Round) -> None:
        rnd.stopped = True
        sent_out = rnd.audio_end is not None and rnd.audio_end <= self.timeline.live()
        # Even a round the server has sent out whole may still be playing on a peer (its sink and
        # jitter buffer lag the server's clock): the marker stops it there too.
        at = rnd.audio_end if sent_out else self.timeline.cut()
        self._broadcast(rnd, ("marker", framing.INTERRUPT, at, 0))

    def _hold(self, call: tuple) -> bool:
        """Before any peer listens, keep ``call`` to replay later; True when it was kept (or dropped: closed)."""
        if self._closed:
            return True
        if self._listening:
            return False
        if len(self._pending) >= self.settings.max_pending:
            self._fail(RtcErrorCode.PEER_BACKLOG, f"{self.settings.max_pending} calls are waiting for a peer to "
                       "join the WebRTC egress; join it before sending more audio")
            return True
        self._pending.append(call)
        return True

    def _start_listening(self) -> None:
        if self._listening:
            return
        self._listening = True
        pending, self._pending = self._pending, []
        for call in pending:
            getattr(self, call[0])(*call[1:])

    # -- fan-out ------------------------------------------------------------------------------------

    def _broadcast(self, rnd: _Round, item: tuple) -> None:
        item = item + (rnd.frames,)
        for peer in list(self.peers.values()):
            if rnd.req_id in peer.rounds:
                self._deliver(peer, rnd.req_id, item)

    def _deliver(self, peer: _Peer, req_id: str, item: tuple) -> None:
        if not peer.ready or peer.outbox:
            if len(peer.outbox) >= _OUTBOX:
                self._drop_soon(peer, "its motion backlog is full (the peer does not read)")
                return
            peer.outbox.append((req_id, item))
            if peer.ready:
                self._flush(peer)
            return
        self._send(peer, req_id, item)

    def _flush(self, peer: _Peer) -> None:
        while peer.outbox and peer.ready and not peer.closed:
            req_id, item = peer.outbox.popleft()
            self._send(peer, req_id, item)

    def _send(self, peer: _Peer, req_id: str, item: tuple) -> None:
        if req_id not in peer.rounds:
            return
        position = item[2] - peer.track.origin + framing.OPUS_DELAY
        if item[2] < peer.track.origin:
            # The peer's audio started after this round did: it cannot play it in sync; it joins the next one.
            peer.rounds.discard(req_id)
            return
        if item[0] == "keyframe":
            _, index, _, flame, end, _ = item
            data = framing.keyframe_packet(index, position, flame, start=index == 0, end=end)
        else:
            _, kind, _, gap, frames = item
            data = framing.marker_packet(kind, req_id=req_id, sample_position=position,
                                         connection_id=self.connection_id, frame_count=frames, gap_samples=gap)
        try:
            peer.channel.send(data)
        except Exception as exc:  # the channel closed under us
            self._drop_soon(peer, f"its data channel failed: {exc}")
            return
        if peer.channel.bufferedAmount > self.settings.max_buffered_bytes:
            self._drop_soon(peer, f"over {self.settings.max_buffered_bytes} bytes of motion are waiting for it")

    # -- peers --------------------------------------------------------------------------------------

    @property
    def joins(self) -> int:
        return self._peers.joins

    async def join(self, offer_sdp: str) -> tuple[str, str]:
        """Answer a peer's offer: ``(peer id, answer SDP)``, or :class:`JoinRefused` naming the limit or the fault."""
        if self._closed:
            raise JoinRefused(404, "sessionNotFound", "the session has ended")
        self._peers.reserve()
        peer_id = secrets.token_hex(8)
        holder: list[_Peer] = []
        track = EgressAudioTrack(self.timeline, on_start=lambda origin: self._peer_started(holder))
        try:
            answered = await answer_offer(offer_sdp, tracks=[track], channels=[MOTION_CHANNEL],
                                          policy=self.settings.ice)
        except BaseException:
            self._peers.release()
            raise
        peer = _Peer(peer_id, answered, track)
        await self._peers.add(peer)
        holder.append(peer)
        peer.channel.on("open", lambda: self._flush(peer))
        return peer_id, answered.sdp

    async def leave(self, peer_id: str) -> bool:
        return await self._peers.leave(peer_id)

    def _peer_started(self, holder: list) -> None:
        if holder:
            self._start_listening()
            self._flush(holder[0])

    def _drop_soon(self, peer: _Peer, why: str) -> None:
        self._peers.drop_soon(peer, why)

    @staticmethod
    def _on_drop(peer: _Peer) -> None:
        peer.outbox.clear()
        peer.track.stop()

    def _join_timeout(self) -> None:
        self._fail(RtcErrorCode.JOIN_TIMEOUT, f"no peer joined the WebRTC egress within "
                   f"{self.settings.join_timeout_s:g} s")

    def _fail(self, code: RtcErrorCode, message: str) -> None:
        log.info("session %s: WebRTC egress failed: %s", self.connection_id, message)
        if self._on_failure is not None:
            asyncio.get_running_loop().create_task(self._on_failure(code, message))
