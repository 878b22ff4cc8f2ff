"""Backend-feed conformance: the rules of ``engine.contracts.BackendFeed`` for a backend-mode transport.

Run on your plugin with ``facecast conformance --backend-feed NAME``. In backend mode the app's
own server holds the Motion Server session and the app yields what it relays; the feed is driven
here exactly as the controller drives it, with real ``SERVER_RESPONSE_ANIMATION`` envelopes, and
returns what it accepts for the controller to decode.
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from engine import AudioFormat, AvatarError, ConnectionState, Endpoints, ErrorCode
from engine.contracts import BackendFeed, TransportContext
from engine.wire import encode_animation

from .plugin import registration

EXPRESSIONS = 10
DIM = 20 + EXPRESSIONS
# Nothing listens on the discard port: a feed that dials anything fails loudly here.
NOWHERE = Endpoints(console="http://127.0.0.1:9", ingress="ws://127.0.0.1:9", assets="http://127.0.0.1:9")


class Recorder:
    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.states: list[ConnectionState] = []
        self.errors: list[AvatarError] = []

    def on_animation(self, message: bytes) -> None:
        assert isinstance(message, bytes), f"on_animation got {type(message).__name__}, not bytes"
        self.messages.append(message)

    def on_connection_state(self, state) -> None:
        self.states.append(state)

    def on_error(self, error) -> None:
        self.errors.append(error)


def envelopes(req_id: str, count: int, per_message: int = 2) -> list[bytes]:
    rng = np.random.default_rng(len(req_id) * 31 + count)
    out = []
    for start in range(0, count * per_message, per_message):
        frames = rng.normal(0, 0.05, (per_message, DIM)).astype(np.float32)
        out.append(encode_animation("conn", req_id, frames, start, start + per_message >= count * per_message))
    return out


@pytest.fixture
def make_feed(backend_feed_name):
    factory = registration("transports", backend_feed_name).factory

    def make():
        recorder = Recorder()
        context = TransportContext(app_id="conformance-app", avatar_id="conformance-head",
                                   audio_format=AudioFormat(sample_rate=16000), endpoints=NOWHERE,
                                   session_token=None, listener=recorder)
        return factory(context), recorder

    return make


def test_factory_makes_a_backend_feed(make_feed):
    feed, recorder = make_feed()
    assert isinstance(feed, BackendFeed), "missing open_round/close_round/feed (or a Transport method)"
    assert recorder.messages == [] and recorder.errors == []


def test_connect_dials_nothing_and_close_is_idempotent(make_feed):
    feed, recorder = make_feed()

    async def lifecycle():
        await asyncio.wait_for(feed.connect(), 5)
        await feed.close()
        await feed.close()

    asyncio.run(lifecycle())
    assert not recorder.errors, f"connect() in backend mode must not dial anything: {recorder.errors}"


def test_feed_returns_the_current_conversation_in_order(make_feed):
    feed, recorder = make_feed()
    feed.open_round("talk-1")
    payloads = envelopes("talk-1", 5)
    got = list(feed.feed(payloads[:2], "talk-1")) + list(feed.feed(payloads[2:], "talk-1"))
    assert got == payloads, "each envelope exactly as yielded, in order, once"
    assert all(type(m) is bytes for m in got), "accepted envelopes are returned as bytes"
    assert recorder.messages == [], "feed() never calls the listener: the controller decodes what it returns"


def test_feed_of_another_conversation_is_dropped_whole(make_feed):
    feed, recorder = make_feed()
    feed.open_round("talk-2")
    assert feed.feed(envelopes("talk-1", 3), "talk-1") is None
    assert recorder.messages == []
    feed.open_round("talk-3")
    assert feed.feed(envelopes("talk-2", 3), "talk-2") is None, "open_round() must make the new id current"
    assert recorder.messages == []


def test_close_round_ends_the_conversation(make_feed):
    feed, recorder = make_feed()
    feed.open_round("a")
    feed.close_round("other")  # not current: nothing changes
    assert len(feed.feed(envelopes("a", 1), "a")) == 1
    feed.close_round("a")
    assert feed.feed(envelopes("a", 1), "a") is None
    feed.open_round("b")
    feed.close_round()
    assert feed.feed(envelopes("b", 1), "b") is None, "close_round(None) ends whatever is current"


def test_interrupt_stops_the_conversation(make_feed):
    feed, recorder = make_feed()
    feed.open_round("spoken")
    asyncio.run(feed.interrupt("spoken"))
    assert feed.feed(envelopes("spoken", 2), "spoken") is None, "nothing of an interrupted round is passed on"
    assert recorder.messages == []


def test_send_audio_opens_the_round(make_feed):
    feed, recorder = make_feed()
    asyncio.run(feed.send_audio("by-audio", b"\x00\x00" * 160, False))
    assert len(feed.feed(envelopes("by-audio", 1), "by-audio")) == 1


def test_bytes_like_payloads_are_accepted(make_feed):
    feed, recorder = make_feed()
    feed.open_round("x")
    raw = envelopes("x", 3)
    given = [raw[0], bytearray(raw[1]), memoryview(raw[2])]
    assert list(feed.feed(given, "x")) == raw


@pytest.mark.parametrize("bad", [["text"], [b"ok", 7], [None]], ids=["str", "int", "None"])
def test_an_item_that_is_not_bytes_is_a_server_error_naming_it(make_feed, bad):
    feed, recorder = make_feed()
    feed.open_round("x")
    items = [envelopes("x", 1)[0] if item == b"ok" else item for item in bad]
    with pytest.raises(AvatarError) as info:
        feed.feed(items, "x")
    assert info.value.code is ErrorCode.serverError, info.value
    assert str(len(bad) - 1) in info.value.message, f"the error must name item {len(bad) - 1}: {info.value}"


def test_a_payload_list_that_is_not_a_list_is_refused(make_feed):
    feed, _ = make_feed()
    feed.open_round("x")
    with pytest.raises(AvatarError) as info:
        feed.feed(envelopes("x", 1)[0], "x")  # one envelope, not a list of them
    assert info.value.code is ErrorCode.serverError


def test_after_close_the_feed_passes_nothing_on(make_feed):
    feed, recorder = make_feed()
    feed.open_round("x")
    asyncio.run(feed.close())
    try:
        got = feed.feed(envelopes("x", 1), "x")
    except AvatarError:
        got = None
    assert got is None, "after close() feed() must return None or raise AvatarError"
    assert recorder.messages == []
