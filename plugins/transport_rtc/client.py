"""``RtcClient``: joins a session's WebRTC egress and plays it through an ``AvatarController`` in backend mode.

The app gets a join URL and a join token from its backend (which holds the Motion Server session
and never gives the client a Motion Server token), makes the client and starts it. From then on:

- audio from the track goes to the controller (``yield_audio_data``), and so to its sink, which
  is the clock. Only each round's own samples go there — the markers say where a round starts
  and ends on the track and which spans are filler — so the round's clock counts exactly the
  audio its motion was made from;
- each keyframe packet becomes a ``SERVER_RESPONSE_ANIMATION`` envelope (``yield_frames_data``),
  held until its round's first sample has been yielded, so keyframe 0 meets audio sample 0;
- an interrupt marker interrupts the controller at once (audio and motion stop together);
- no motion for a playing round within ``motion_fallback_s`` (15 s, the seed's rule) makes that
  round audio-only; a connection that does not come up within ``connect_timeout_s`` is
  ``sessionTimeout``; one that is lost (no audio for ``stall_timeout_s``, ICE failure, the server
  gone) is ``websocketClosedUnexpected``, and the audio that already arrived still plays out.

Connection states and errors go to ``client.on_connection_state`` / ``client.on_error`` when set,
else to the controller's callbacks of the same names.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging

import numpy as np

from engine import AvatarSDK, DrivingServiceMode
from engine.kit import AvatarError, ConnectionState, ErrorCode, IcePolicy, rtc_framing as framing, rtc_ice as ice

from .join import delete, post_offer
from .rounds import RxRound

log = logging.getLogger("facecast.transport.rtc")

MAX_HELD = 1500  # keyframes (60 s) held for a round whose audio has not arrived yet


class RtcClient:
    def __init__(self, controller, join_url: str, join_token: str, *, connect_timeout_s: float = 15.0,
                 stall_timeout_s: float = 5.0, motion_fallback_s: float = 15.0, ice_policy: IcePolicy | None = None):
        if not join_url or not join_token:
            raise AvatarError(ErrorCode.networkLayerNotAvailable, "the RTC path needs the join URL and join token "
                              "the backend got with its session (session.join_url / session.join_token)")
        self.controller = controller
        self.join_url = join_url
        self.join_token = join_token
        self.connect_timeout_s = connect_timeout_s
        self.stall_timeout_s = stall_timeout_s
        self.motion_fallback_s = motion_fallback_s
        self.ice_policy = ice_policy or IcePolicy()
        self.on_connection_state = None
        self.on_error = None
        self.on_animation = None  # sees each rebuilt envelope (bytes), e.g. for latency measurements
        self.state = ConnectionState.disconnected
        self.stats = collections.Counter()
        self._pc = None
        self._track = None
        self._resource: str | None = None
        self._tasks: list[asyncio.Task] = []
        self._rounds: collections.deque[RxRound] = collections.deque()
        self._recent: collections.OrderedDict[str, RxRound] = collections.OrderedDict()
        self._receiving: RxRound | None = None  # the round keyframes belong to (the last START)
        self._playing: RxRound | None = None  # the last round whose audio reached the controller
        self._connection_id = ""
        self._last_audio = 0.0
        self._closing = False

    # -- lifecycle ----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Join and wait until audio and motion flow; ``AvatarError`` (and state ``failed``) if not."""
        if self.state in (ConnectionState.connecting, ConnectionState.connected):
            raise AvatarError(ErrorCode.connectionInProgress, f"the RTC client is already {self.state.value}")
        if self._closing:
            raise AvatarError(ErrorCode.networkLayerNotAvailable, "this RTC client was closed; make a new one")
        config = AvatarSDK.require_initialized("RtcClient")
        if config.driving_service_mode != DrivingServiceMode.backend:
            raise AvatarError(ErrorCode.playbackStartFailed, "the RTC path plays in backend mode: initialize the SDK "
                              "with driving_service_mode='backend'")
        self._rate = config.audio_format.sample_rate
        self._set_state(ConnectionState.connecting)
        try:
            await asyncio.wait_for(self._connect(), self.connect_timeout_s)
        except (asyncio.TimeoutError, TimeoutError):
            await self._abandon(AvatarError(ErrorCode.sessionTimeout, f"the RTC connection did not come up within "
                                            f"{self.connect_timeout_s:g} s"))
        except AvatarError as error:
            await self._abandon(error)
        except Exception as exc:  # aiortc raises plain exceptions for SDP it cannot use
            await self._abandon(AvatarError(ErrorCode.websocketError, f"the RTC connection failed: {exc!r}"))
        loop = asyncio.get_running_loop()
        self._last_audio = loop.time()
        self._tasks = [loop.create_task(self._read_audio(), name="facecast-rtc-audio"),
                       loop.create_task(self._watch(), name="facecast-rtc-watch")]
        self._set_state(ConnectionState.connected)

    async def close(self) -> None:
        """Leave the session and release the connection; queued audio goes on playing. Idempotent."""
        if self._closing:
            return
        self._closing = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        if self._resource is not None:
            await delete(self._resource, self.join_token)
        if self._pc is not None:
            await self._pc.close()
        self._rounds.clear()
        self._set_state(ConnectionState.disconnected)

    async def _connect(self) -> None:
        pc = self._pc = ice.new_peer_connection()
        channel = pc.createDataChannel(framing.LABEL, ordered=True, negotiated=True, id=framing.CHANNEL_ID)
        pc.addTransceiver("audio", direction="recvonly")
        opened, got_track, up = asyncio.Event(), asyncio.Event(), asyncio.Event()
        channel.on("open", opened.set)
        channel.on("message", self._on_packet)
        channel.on("close", lambda: self._lost("the server closed the motion channel", clean=True))

        @pc.on("track")
        def _track(track) -> None:
            if track.kind == "audio":
                self._track = track
                got_track.set()

        @pc.on("connectionstatechange")
        def _state() -> None:
            if pc.connectionState == "connected":
                up.set()
            elif pc.connectionState == "failed":
                self._lost("ICE/DTLS failed")
            elif pc.connectionState == "closed":
                self._lost("the connection closed", clean=True)

        await ice.set_local_description(pc, await pc.createOffer(), self.ice_policy)
        answer, self._resource = await post_offer(self.join_url, self.join_token, pc.localDescription.sdp)
        answer, dropped = ice.filter_sdp_candidates(answer, self.ice_policy)
        if dropped:
            log.info("ignored %d answer candidate(s) outside %s", dropped, self.ice_policy.host_addresses)
        from aiortc import RTCSessionDescription

        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        await asyncio.gather(up.wait(), opened.wait(), got_track.wait())

    async def _abandon(self, error: AvatarError) -> None:
        if self._pc is not None:
            await self._pc.close()
        self._set_state(ConnectionState.failed)
        self._emit_error(error)
        raise error

    # -- audio --------------------------------------------------------------------------------------

    async def _read_audio(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                frame = await self._track.recv()
            except asyncio.CancelledError:
                raise
            except Exception:  # MediaStreamError: the track ended
                self._lost("the server ended the audio track")
                return
            self._last_audio = loop.time()
            self.stats["audio_frames"] += 1
            samples = frame.to_ndarray().reshape(frame.samples, -1)[:, 0]
            self._on_audio(frame.pts, samples)

    def _on_audio(self, pts: int, mono: np.ndarray) -> None:
        for rnd in list(self._rounds):
            if rnd.start >= pts + len(mono):
                break
            pcm = rnd.take(pts, mono)
            end = rnd.complete
            if end:
                pcm = np.concatenate([pcm, rnd.finish()])
                self._rounds.remove(rnd)
            if pcm.size or end:
                self._yield_audio(rnd, pcm, end)

    def _yield_audio(self, rnd: RxRound, pcm: np.ndarray, end: bool) -> None:
        if rnd.conversation_id is None:
            if not pcm.size:
                return  # a round with no audio of its own: nothing to play
            cid = self._call(self.controller.yield_audio_data, pcm, end)
            if cid is None:
                return
            rnd.conversation_id = cid
            rnd.started_at = asyncio.get_running_loop().time()
            self._playing = rnd
            if rnd.held:
                held, rnd.held = rnd.held, []
                self._call(self.controller.yield_frames_data, held, cid)
            return
        self._call(self.controller.yield_audio_data, pcm, end)

    # -- motion and markers -------------------------------------------------------------------------

    def _on_packet(self, data) -> None:
        try:
            item = framing.parse_packet(data)
        except AvatarError as error:
            self._emit_error(error)
            return
        if item is None:
            return
        if isinstance(item, framing.Keyframe):
            self._on_keyframe(item)
        elif item.kind == framing.ROUND_START:
            rnd = RxRound(item.req_id, item.sample_position, self._rate)
            self._connection_id = item.connection_id
            self._rounds.append(rnd)
            self._recent[item.req_id] = self._receiving = rnd
            while len(self._recent) > 8:
                self._recent.popitem(last=False)
        else:
            rnd = self._recent.get(item.req_id)
            if rnd is None:
                return
            if item.kind == framing.ROUND_END:
                rnd.end = item.sample_position
            elif item.kind == framing.GAP:
                rnd.gaps.append((item.sample_position, item.gap_samples))
            elif item.kind == framing.INTERRUPT:
                self._interrupt(rnd)

    def _on_keyframe(self, keyframe: framing.Keyframe) -> None:
        rnd = self._receiving
        if rnd is None or rnd.motion_ended:
            return
        envelope = framing.envelope(self._connection_id, rnd.req_id, keyframe.frame_index, [keyframe.flame],
                                    keyframe.end)
        rnd.keyframes += 1
        rnd.motion_ended = keyframe.end
        self.stats["keyframes"] += 1
        if self.on_animation is not None:
            self.on_animation(envelope)
        if rnd.conversation_id is not None:
            self._call(self.controller.yield_frames_data, [envelope], rnd.conversation_id)
        elif len(rnd.held) < MAX_HELD:
            rnd.held.append(envelope)

    def _interrupt(self, rnd: RxRound) -> None:
        rnd.end = rnd.end if rnd.end is not None else rnd.start  # no more of its audio is taken
        rnd.motion_ended = True
        if rnd in self._rounds:
            self._rounds.remove(rnd)
        if rnd is self._playing:
            self._playing = None
            self._call(self.controller.interrupt)

    # -- health -------------------------------------------------------------------------------------

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(0.25)
            now = loop.time()
            if now - self._last_audio > self.stall_timeout_s:
                self._lost(f"no audio arrived for {self.stall_timeout_s:g} s")
                return
            rnd = self._playing
            if rnd is not None and rnd.keyframes == 0 and not rnd.motion_ended and rnd.started_at is not None \
                    and now - rnd.started_at > self.motion_fallback_s:
                rnd.motion_ended = True
                log.warning("no motion for round %s within %g s: playing it audio-only", rnd.req_id,
                            self.motion_fallback_s)
                self._call(self.controller.yield_frames_data, [], rnd.conversation_id)

    def _lost(self, why: str, clean: bool = False) -> None:
        """The connection is gone: let what arrived play out, report it, release the peer connection."""
        if self._closing or self.state != ConnectionState.connected:
            return
        self._closing = True
        for rnd in self._rounds:
            if rnd.conversation_id is not None:
                self._call(self.controller.yield_audio_data, rnd.finish(), True)
        self._rounds.clear()
        for task in self._tasks:
            if task is not asyncio.current_task():
                task.cancel()
        if self._pc is not None:
            asyncio.get_running_loop().create_task(self._pc.close())
        log.info("RTC connection lost: %s", why)
        if clean:
            self._set_state(ConnectionState.disconnected)
            return
        self._set_state(ConnectionState.failed)
        self._emit_error(AvatarError(ErrorCode.websocketClosedUnexpected, f"the RTC connection to the Motion "
                                     f"Server was lost ({why}); the audio that arrived plays out"))

    # -- reporting ----------------------------------------------------------------------------------

    def _call(self, method, *args):
        try:
            return method(*args)
        except AvatarError as error:
            if error.code == ErrorCode.animationPlayerNotInitialized and not self._closing:
                # The view was disposed: nothing can play any more, so leave the session quietly.
                asyncio.get_running_loop().create_task(self.close())
                return None
            self._emit_error(error)
            return None

    def _set_state(self, state: ConnectionState) -> None:
        if state == self.state:
            return
        self.state = state
        callback = self.on_connection_state or getattr(self.controller, "on_connection_state", None)
        _notify(callback, state)

    def _emit_error(self, error: AvatarError) -> None:
        callback = self.on_error or getattr(self.controller, "on_error", None)
        _notify(callback, error)


def _notify(callback, value) -> None:
    if callback is None:
        return
    try:
        callback(value)
    except Exception:
        log.exception("an RTC client callback raised")
