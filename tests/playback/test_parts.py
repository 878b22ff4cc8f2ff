"""The controller's parts on their own: the playhead on a virtual sink, the backend and direct drivers."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from engine import ConnectionState, ConversationState
from engine.contracts import TransportContext
from engine.playback.connection import DirectLink
from engine.playback.direct import DirectDriver
from engine.playback.drivers import BackendDriver
from engine.playback.events import EventQueue
from engine.playback.playhead import CLOSED, DROPPED, OPENED, Playhead
from engine.playback.simulated import SimulatedSink
from engine.playback.starvation import make_policy
from engine.wire import AnimationDecoder, encode_animation
from plugins.transport_backend import BackendTransport

from .conftest import RATE, SPF, keyframes

DIM = 70


def pcm(seconds: float) -> np.ndarray:
    return (np.sin(np.arange(int(seconds * RATE)) * 0.05) * 6000).astype(np.int16)


def decoded(req_id: str, kf: np.ndarray, start: int = 0, end: bool = True):
    return AnimationDecoder(DIM - 20).decode(encode_animation("c", req_id, kf, start, end))


@pytest.fixture
def head(avatar):
    events = EventQueue()
    playhead = Playhead(np.ascontiguousarray(avatar.idle, np.float32), events)
    sink = SimulatedSink(RATE)
    sink.start()
    playhead.attach_sink(sink)
    return playhead, sink, events


def names(events: EventQueue) -> list[tuple[str, object]]:
    return [(name, args[0].value if hasattr(args[0], "value") else args[0]) for name, args in events.take()]


def test_a_round_opens_plays_on_the_audio_clock_and_closes(head):
    playhead, sink, events = head
    cid = playhead.accept_audio(pcm(0.4), True, audio_only=True)
    assert playhead.take_round_changes() == [(OPENED, cid)]
    assert names(events) == [("on_conversation_state", "playing")]
    sink.advance(RATE // 10)
    playhead.update()
    assert playhead.round_time == pytest.approx(0.1)
    sink.advance(int(0.3 * RATE))
    playhead.update()
    assert playhead.take_round_changes() == [(CLOSED, cid)]
    assert playhead.state == ConversationState.idle and playhead.active_round() is None


def test_new_audio_after_the_end_drops_the_round_before_opening_the_next(head):
    playhead, sink, _ = head
    first = playhead.accept_audio(pcm(1.0), True, audio_only=False)
    second = playhead.accept_audio(pcm(0.2), False, audio_only=False)
    assert playhead.take_round_changes() == [(OPENED, first), (DROPPED, first), (OPENED, second)]
    assert sink.queued_samples() == int(0.2 * RATE)  # the first round's audio left the ring


def test_motion_goes_to_the_round_that_wants_it(head):
    playhead, sink, events = head
    cid = playhead.accept_audio(pcm(1.0), True, audio_only=False)
    assert playhead.wants_motion() == cid
    playhead.push_motion(decoded(cid, keyframes(25)))
    assert playhead.motion_ended(cid) and playhead.round.frames_end == 25
    sink.advance(SPF * 3)
    out = np.zeros(DIM, np.float32)
    playhead.pose(out)
    assert ("on_animation_state", "mono") in names(events)
    assert playhead.pose_time == pytest.approx(3 / 25)


def test_drop_motion_releases_a_strict_sync_hold_and_ends_the_stall(head):
    playhead, sink, events = head
    playhead.set_policy("strict_sync", make_policy("strict_sync"))
    cid = playhead.accept_audio(pcm(1.0), True, audio_only=False)
    playhead.push_motion(decoded(cid, keyframes(2), end=False))
    for _ in range(10):
        sink.advance(SPF)
        playhead.update()
    assert ("on_playback_stall", True) in names(events)
    held = sink.position()
    playhead.drop_motion()
    assert playhead.wants_motion() is None
    assert names(events) == [("on_playback_stall", False)]
    sink.advance(SPF)
    assert sink.position() > held  # the gate opened: audio plays on without motion


def test_interrupt_drops_and_pause_keeps(head):
    playhead, sink, events = head
    cid = playhead.accept_audio(pcm(1.0), False, audio_only=True)
    playhead.pause()
    assert sink.paused and playhead.state == ConversationState.paused
    playhead.resume()
    playhead.interrupt()
    assert playhead.take_round_changes() == [(OPENED, cid), (DROPPED, cid)]
    assert [n for n in names(events) if n[0] == "on_conversation_state"] == \
        [("on_conversation_state", s) for s in ("playing", "paused", "playing", "idle")]


def backend_transport() -> BackendTransport:
    context = TransportContext(app_id="a", avatar_id="demo", audio_format={"sample_rate": RATE},
                               endpoints=None, session_token=None, listener=None)
    return BackendTransport(context)


def test_backend_driver_feeds_back_what_the_transport_accepted():
    driver = BackendDriver(backend_transport(), "backend")
    message = encode_animation("c", "r1", keyframes(5), 0, True)
    assert driver.feed([message], "r1") is None  # no round opened yet
    driver.opened("r1")
    assert driver.feed([message, bytearray(message)], "r1") == [message, message]
    assert driver.accepts(decoded("other", keyframes(1)), "r1")  # the feed already matched the round
    driver.closed("r1")
    assert driver.feed([message], "r1") is None
    assert driver.transport_state(ConnectionState.failed) is False


def test_backend_driver_refuses_a_transport_that_cannot_feed():
    from engine import AvatarError, ErrorCode

    with pytest.raises(AvatarError) as info:
        BackendDriver(object(), "plain")
    assert info.value.code == ErrorCode.networkLayerNotAvailable and "'plain'" in info.value.message


class Wire:
    """A transport that records what the link sends (only what DirectLink calls)."""

    def __init__(self) -> None:
        self.sent: list[tuple] = []
        self.closed = False

    async def connect(self) -> None:
        pass

    async def send_audio(self, req_id, pcm16, end) -> None:
        self.sent.append(("audio", req_id, len(pcm16), end))

    async def interrupt(self, req_id) -> None:
        self.sent.append(("interrupt", req_id))

    async def close(self) -> None:
        self.closed = True


async def test_direct_driver_connection_states_fallback_and_what_it_sends():
    events = EventQueue()
    driver = DirectDriver(events)
    wire = Wire()
    link = DirectLink(wire, asyncio.get_running_loop())
    assert driver.begin(link) is None and driver.busy and driver.streaming  # audio queues while it connects
    assert driver.transport_state(ConnectionState.failed) is False  # start() reports the outcome itself
    await link.connect(1.0)
    driver.connected(link)
    assert driver.streaming and driver.connection == ConnectionState.connected
    driver.audio("r1", pcm(0.01), False)
    driver.dropped("r1")
    for _ in range(5):
        await asyncio.sleep(0)
    assert wire.sent == [("audio", "r1", 2 * int(0.01 * RATE), False), ("interrupt", "r1")]
    assert driver.accepts(decoded("r1", keyframes(1)), "r1")
    assert not driver.accepts(decoded("r0", keyframes(1)), "r1")
    assert driver.transport_state(ConnectionState.connecting) is False  # the transport redials
    assert driver.transport_state(ConnectionState.failed) is True
    assert driver.fallback and not driver.streaming
    assert names(events) == [("on_connection_state", s) for s in ("connecting", "connected", "connecting", "failed")]
    assert driver.detach() is link
    await driver.close()
    await link.close()
    assert wire.closed
