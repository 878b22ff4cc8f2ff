"""Malformed client input gets a SERVER_ERROR (and a clean close where the session cannot go on);
the server keeps serving every other session."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
import websockets

from engine.server.codes import ServerErrorCode as E
from engine.wire import message_pb2 as pb

from .raw_client import T, audio, configure, open_session, parse, recv_round, recv_until_closed, speech_like


async def next_error(ws) -> pb.ServerError:
    msg = parse(await asyncio.wait_for(ws.recv(), 5))
    assert msg.type == T.MESSAGE_TYPE_SERVER_ERROR, msg
    return msg.server_error


def wrong_payload() -> bytes:
    msg = pb.Message(type=T.MESSAGE_TYPE_CLIENT_AUDIO_INPUT)
    msg.client_interrupt.req_id = "x"  # type says audio, payload is an interrupt
    return msg.SerializeToString()


def server_message() -> bytes:
    msg = pb.Message(type=T.MESSAGE_TYPE_SERVER_CONFIRM_SESSION)
    msg.server_confirm_session.connection_id = "spoof"
    return msg.SerializeToString()


BAD_AFTER_CONFIGURE = {
    "garbage bytes": b"\xff\xff\xff\xff\x0f",
    "truncated": audio("r", b"\0" * 64)[:-7],
    "type/payload mismatch": wrong_payload(),
    "unknown type": pb.Message(type=6).SerializeToString(),
    "server message": server_message(),
    "odd PCM byte count": audio("r", b"\0" * 63),
    "empty req_id": audio("", b"\0" * 64),
    "req_id too long": audio("r" * 300, b"\0" * 64),
    "second configure": configure(16000),
}


@pytest.mark.parametrize("name", list(BAD_AFTER_CONFIGURE))
async def test_bad_message_mid_session_is_answered_and_the_session_goes_on(motion_server, name):
    token = await motion_server.token()
    ws, connection_id = await open_session(motion_server.ingress_url(), motion_server.headers(token))
    await ws.send(BAD_AFTER_CONFIGURE[name])
    error = await next_error(ws)
    assert error.code == E.INVALID_ARGUMENT and error.message and error.connection_id == connection_id
    await ws.send(audio("ok", speech_like(0.08), end=True))
    assert sum(len(m.server_response_animation.animation.keyframes) for m in await recv_round(ws, "ok")) == 2
    await ws.close()


async def test_text_frame_is_answered(motion_server):
    token = await motion_server.token()
    ws, _ = await open_session(motion_server.ingress_url(), motion_server.headers(token))
    await ws.send("hello")
    assert (await next_error(ws)).code == E.INVALID_ARGUMENT
    await ws.close()


@pytest.mark.parametrize("first", [audio("r", b"\0" * 64), b"\x00\x01garbage", "text"])
async def test_bad_first_message_closes_cleanly(motion_server, first):
    token = await motion_server.token()
    async with websockets.connect(motion_server.ingress_url(), additional_headers=motion_server.headers(token)) as ws:
        await ws.send(first)
        msgs = await recv_until_closed(ws)
    assert [m.server_error.code for m in msgs] == [E.INVALID_ARGUMENT]
    assert ws.close_code == 1008


async def test_audio_after_round_end_is_an_error(motion_server):
    token = await motion_server.token()
    ws, _ = await open_session(motion_server.ingress_url(), motion_server.headers(token))
    await ws.send(audio("r", speech_like(0.04), end=True))
    await recv_round(ws, "r")
    await ws.send(audio("r", speech_like(0.04)))
    error = await next_error(ws)
    assert (error.code, error.req_id) == (E.INVALID_ARGUMENT, "r")
    await ws.close()


async def test_abusive_clients_do_not_disturb_a_healthy_session(motion_server):
    token = await motion_server.token()
    healthy, _ = await open_session(motion_server.ingress_url(), motion_server.headers(token))

    async def abuse(payload):
        try:
            async with websockets.connect(motion_server.ingress_url(),
                                          additional_headers=motion_server.headers(token)) as ws:
                await ws.send(configure())
                await ws.recv()
                await ws.send(payload)
                ws.transport.abort()  # vanish without a close frame
        except websockets.ConnectionClosed:
            pass

    await asyncio.gather(*(abuse(p) for p in BAD_AFTER_CONFIGURE.values()))
    pcm = speech_like(1.0)
    for i in range(0, len(pcm), 1280):
        await healthy.send(audio("h", pcm[i:i + 1280], end=i + 1280 >= len(pcm)))
    assert sum(len(m.server_response_animation.animation.keyframes) for m in await recv_round(healthy, "h")) == 25
    await healthy.close()
    # Sessions of clients that vanished are forgotten.
    for _ in range(50):
        if motion_server.server.session_count() == 0:
            break
        await asyncio.sleep(0.02)
    assert motion_server.server.session_count() == 0


async def test_plain_http_get_on_the_ingress_is_refused(motion_server):
    import aiohttp

    async with aiohttp.ClientSession() as http:
        async with http.get(motion_server.ingress_url()) as resp:
            assert resp.status == 400
            assert (await resp.json())["errors"][0]["code"] == "websocketRequired"


async def test_random_garbage_never_breaks_the_server(motion_server):
    """Hundreds of random frames: each is answered or ignored; the session and server carry on."""
    rng = np.random.default_rng(1234)
    token = await motion_server.token()
    ws, _ = await open_session(motion_server.ingress_url(), motion_server.headers(token))
    payloads = [rng.bytes(int(n)) for n in rng.integers(0, 300, size=300)]
    for payload in payloads:
        await ws.send(payload)
    await ws.send(audio("after", speech_like(0.2), end=True))
    errors = 0
    while True:
        msg = parse(await asyncio.wait_for(ws.recv(), 10))
        if msg.type == T.MESSAGE_TYPE_SERVER_ERROR:
            errors += 1
        elif msg.server_response_animation.req_id == "after" and msg.server_response_animation.end:
            break
    assert errors >= 250  # nearly all random frames are malformed; a few parse as harmless messages
    await ws.close()


async def test_concurrent_sessions_do_not_mix(motion_server):
    token = await motion_server.token()

    async def one(i: int) -> tuple[str, int, set]:
        ws, connection_id = await open_session(motion_server.ingress_url(), motion_server.headers(token))
        pcm = speech_like(0.4 + 0.04 * i, seed=i)
        for at in range(0, len(pcm), 1280):
            await ws.send(audio(f"s{i}", pcm[at:at + 1280], at + 1280 >= len(pcm)))
        msgs = await recv_round(ws, f"s{i}")
        await ws.close()
        frames = sum(len(m.server_response_animation.animation.keyframes) for m in msgs)
        return connection_id, frames, {m.server_response_animation.connection_id for m in msgs}

    results = await asyncio.gather(*(one(i) for i in range(12)))
    assert len({cid for cid, _, _ in results}) == 12
    for i, (cid, frames, seen) in enumerate(results):
        assert frames == 10 + i and seen == {cid}


async def test_a_failing_motion_generator_costs_only_its_session(motion_server):
    """A generator that raises ends its session with SERVER_ERROR 14 (close 1011); others go on."""
    server = motion_server.server
    real_factory = server.generator_factory

    class Exploding:
        def __init__(self, *args):
            self.inner = real_factory(*args)

        def feed(self, pcm):
            if len(pcm) == 321:
                raise RuntimeError("generator bug")
            return self.inner.feed(pcm)

        def finish(self):
            return self.inner.finish()

        def reset(self):
            self.inner.reset()

    server.generator_factory = Exploding
    token = await motion_server.token()
    healthy, _ = await open_session(motion_server.ingress_url(), motion_server.headers(token))
    doomed, _ = await open_session(motion_server.ingress_url(), motion_server.headers(token))
    await doomed.send(audio("x", b"\0\0" * 321))
    msgs = await recv_until_closed(doomed)
    assert [m.server_error.code for m in msgs] == [E.UNAVAILABLE] and doomed.close_code == 1011
    await healthy.send(audio("ok", speech_like(0.08), end=True))
    assert sum(len(m.server_response_animation.animation.keyframes) for m in await recv_round(healthy, "ok")) == 2
    await healthy.close()
