"""Attacks that used to stall the Motion Server or pin a session slot (issue 13, items 1 and 2)."""

from __future__ import annotations

import asyncio
import resource
import socket

import numpy as np
import pytest
import websockets

from engine.server import Limits
from engine.server.codes import ServerErrorCode as E
from engine.server.opus import OggOpusDecoder
from engine.wire import message_pb2 as pb

from ..server.raw_client import T, audio, configure, open_session, parse, speech_like
from ..server.test_ingress_opus import ogg_opus
from .hostile import ogg_page, opus_bomb, opus_head


async def _opus_session(motion_server):
    token = await motion_server.token()
    ws = await websockets.connect(motion_server.ingress_url(), additional_headers=motion_server.headers(token),
                                  max_size=None)
    await ws.send(configure(16000, pb.AUDIO_FORMAT_OGG_OPUS))
    assert parse(await asyncio.wait_for(ws.recv(), 10)).type == T.MESSAGE_TYPE_SERVER_CONFIRM_SESSION
    return ws


async def _first_error(ws, timeout: float = 30) -> pb.ServerError:
    while True:
        msg = parse(await asyncio.wait_for(ws.recv(), timeout))
        if msg.HasField("server_error"):
            return msg.server_error


async def test_opus_bomb_is_decoded_in_steps_and_stopped_at_the_round_limit(motion_server):
    """253 KB of Ogg claiming ~9,800 s of audio: the loop keeps turning and the round stops at 300 s."""
    bomb = opus_bomb()
    assert len(bomb) <= Limits().max_message_bytes
    ws = await _opus_session(motion_server)
    ticks = 0
    done = asyncio.Event()

    async def probe():  # counts event-loop turns while the server works on the bomb
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0)

    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    prober = asyncio.create_task(probe())
    try:
        await ws.send(audio("bomb", bomb, end=True))
        error = await _first_error(ws)
    finally:
        done.set()
        await prober
    assert error.code == E.ROUND_AUDIO_LIMIT and "300 s" in error.message
    # Decoded whole, the bomb took one uninterrupted turn of 5-6 s; in steps the loop turns hundreds of times.
    assert ticks > 100
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    assert grown_mb < 400  # it used to peak 2 GB above the start
    # The session is still usable: a normal round afterwards is answered.
    victim, _ = await open_session(motion_server.ingress_url(), motion_server.headers(await motion_server.token()))
    await victim.send(audio("ok", speech_like(0.4), end=True))
    assert parse(await asyncio.wait_for(victim.recv(), 10)).type == T.MESSAGE_TYPE_SERVER_RESPONSE_ANIMATION
    await victim.close()
    await ws.close()


def test_pages_without_packets_are_parsed_in_bounded_steps():
    stream = b"".join([ogg_page([opus_head()], flags=0x02), ogg_page([b"OpusTags" + bytes(8)], sequence=1)]
                      + [ogg_page([], sequence=2 + i) for i in range(5000)])
    decoder = OggOpusDecoder(16000)
    decoder.push(stream)
    steps = 0
    while decoder.pending:
        assert decoder.pull().size == 0
        steps += 1
    assert steps >= 5000 // 64  # each step parsed a bounded number of pages
    assert decoder.finish().size == 0


async def test_truncated_final_ogg_page_is_reported(motion_server):
    data = ogg_opus(np.frombuffer(speech_like(0.5, 48000), "<i2"))
    ws = await _opus_session(motion_server)
    await ws.send(audio("cut", data[:-7], end=True))
    error = await _first_error(ws)
    assert error.code == E.INVALID_ARGUMENT and "truncated" in error.message
    await ws.close()


def _small_buffer_socket(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect, so the window stays small
    sock.connect(("127.0.0.1", port))
    sock.setblocking(False)
    return sock


@pytest.mark.parametrize("server_limits", [Limits(max_sessions_per_app=1, send_timeout_s=1.0),
                                           Limits(max_sessions_per_app=1, send_timeout_s=600, max_session_s=3.0)],
                         ids=["send-timeout", "session-deadline-while-writing"])
async def test_a_client_that_stops_reading_loses_its_session(motion_server, server_limits):
    token = await motion_server.token()
    sock = _small_buffer_socket(motion_server.server.port)
    # max_queue=1: the client library stops reading from the socket as soon as one frame waits unread.
    ws = await websockets.connect(motion_server.ingress_url(), sock=sock, max_queue=1, max_size=None,
                                  additional_headers=motion_server.headers(token))
    await ws.send(configure(8000))

    async def flood():  # audio keeps coming, animation keeps going out, nobody reads it
        chunk = speech_like(16, 8000)
        for i in range(200):
            await ws.send(audio(f"r{i // 18}", chunk))

    flooding = asyncio.create_task(flood())
    try:
        for _ in range(400):  # the slot must be freed: the session is dropped, not kept for the client's pleasure
            await asyncio.sleep(0.05)
            if flooding.done() or motion_server.server.session_count(motion_server.app_id) == 0:
                break
        assert motion_server.server.session_count(motion_server.app_id) == 0
    finally:
        flooding.cancel()
        await asyncio.gather(flooding, return_exceptions=True)
        ws.transport.abort()
    again, _ = await open_session(motion_server.ingress_url(), motion_server.headers(token))
    await again.close()
