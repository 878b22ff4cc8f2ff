"""The ingress WebSocket against a client that speaks only protocol.md."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
import websockets

from engine.wire import message_pb2 as pb

from .raw_client import audio, configure, interrupt, open_session, parse, recv_round, recv_until_closed, speech_like

CHUNK = 640 * 2  # 40 ms of 16 kHz PCM16


async def test_round_streams_25_keyframes_per_second_in_order(motion_server):
    token = await motion_server.token()
    ws, connection_id = await open_session(motion_server.ingress_url(), motion_server.headers(token))
    assert connection_id
    pcm = speech_like(2.0) + b"\0\0" * 123  # 2 s plus a partial window
    for i in range(0, len(pcm), 1000):  # chunks that do not line up with keyframe windows
        await ws.send(audio("r1", pcm[i:i + 1000]))
    await ws.send(audio("r1", b"", end=True))
    messages = await recv_round(ws, "r1")
    await ws.close()
    expected_frames = -(-(len(pcm) // 2) // 640)
    next_frame = 0
    for msg in messages:
        anim = msg.server_response_animation
        assert anim.connection_id == connection_id
        assert anim.animation.start_frame == next_frame
        next_frame += len(anim.animation.keyframes)
        for kf in anim.animation.keyframes:
            assert (len(kf.translation), len(kf.rotation), len(kf.neck_pose), len(kf.jaw_pose), len(kf.eye_pose),
                    len(kf.eye_lid), len(kf.expression)) == (3, 3, 3, 3, 6, 2, motion_server.expression_count)
    assert next_frame == expected_frames == 51
    assert [m.server_response_animation.end for m in messages].count(True) == 1
    # The mouth follows the loudness envelope: loud syllables open the jaw more than the pauses.
    jaw = np.array([kf.jaw_pose[0] for m in messages for kf in m.server_response_animation.animation.keyframes])
    env = np.abs(np.frombuffer(pcm, "<i2")[: 50 * 640].astype(float)).reshape(50, 640).mean(axis=1)
    assert np.corrcoef(jaw[:50], env)[0, 1] > 0.6


async def test_keyframes_arrive_as_each_window_completes(motion_server):
    token = await motion_server.token()
    ws, _ = await open_session(motion_server.ingress_url(), motion_server.headers(token))
    pcm = speech_like(0.2)
    await ws.send(audio("r1", pcm[:CHUNK]))  # exactly one keyframe's window, round not ended
    first = parse(await asyncio.wait_for(ws.recv(), 5)).server_response_animation
    assert (first.animation.start_frame, len(first.animation.keyframes), first.end) == (0, 1, False)
    await ws.send(audio("r1", pcm[CHUNK:CHUNK + CHUNK // 2]))  # half a window: nothing due yet
    await ws.send(audio("r1", pcm[CHUNK + CHUNK // 2:2 * CHUNK], end=True))
    last = parse(await asyncio.wait_for(ws.recv(), 5)).server_response_animation
    assert (last.animation.start_frame, len(last.animation.keyframes), last.end) == (1, 1, True)
    await ws.close()


async def test_query_parameter_credentials_work_like_headers(motion_server):
    token = await motion_server.token()
    url = motion_server.ingress_url(appId=motion_server.app_id, sessionKey=token)
    ws, connection_id = await open_session(url)
    assert connection_id.startswith("conn_")
    await ws.close()


async def test_new_req_id_supersedes_and_interrupt_stops_a_round(motion_server):
    token = await motion_server.token()
    ws, _ = await open_session(motion_server.ingress_url(), motion_server.headers(token))
    pcm = speech_like(0.4)
    await ws.send(audio("a", pcm))
    got = parse(await asyncio.wait_for(ws.recv(), 5)).server_response_animation
    assert got.req_id == "a" and len(got.animation.keyframes) == 10
    await ws.send(interrupt("a"))
    await ws.send(audio("a", pcm, end=True))  # late audio of the interrupted round: nothing comes back for it
    await ws.send(audio("b", pcm[:CHUNK], end=True))
    nxt = parse(await asyncio.wait_for(ws.recv(), 5)).server_response_animation
    assert (nxt.req_id, nxt.animation.start_frame, nxt.end) == ("b", 0, True)
    # Round c is superseded by d before it ends; d starts again at frame 0.
    await ws.send(audio("c", pcm[:CHUNK]))
    assert parse(await asyncio.wait_for(ws.recv(), 5)).server_response_animation.req_id == "c"
    await ws.send(audio("d", pcm[:CHUNK], end=True))
    d = parse(await asyncio.wait_for(ws.recv(), 5)).server_response_animation
    assert (d.req_id, d.animation.start_frame, d.end) == ("d", 0, True)
    await ws.close()


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 48000])
async def test_every_supported_rate_gives_25_keyframes_per_second(motion_server, rate):
    token = await motion_server.token()
    ws, _ = await open_session(motion_server.ingress_url(), motion_server.headers(token), sample_rate=rate)
    await ws.send(audio("r", speech_like(1.0, rate), end=True))
    frames = sum(len(m.server_response_animation.animation.keyframes) for m in await recv_round(ws, "r"))
    assert frames == 25
    await ws.close()


async def test_unsupported_sample_rate_is_refused(motion_server):
    token = await motion_server.token()
    async with websockets.connect(motion_server.ingress_url(), additional_headers=motion_server.headers(token)) as ws:
        await ws.send(configure(11025))
        msgs = await recv_until_closed(ws)
        assert ws.close_code == 1008
    assert [m.server_error.code for m in msgs] == [4102]


async def test_unknown_audio_format_is_refused_with_its_own_code(motion_server):
    token = await motion_server.token()
    async with websockets.connect(motion_server.ingress_url(), additional_headers=motion_server.headers(token)) as ws:
        await ws.send(configure(16000, 7))  # not an AudioFormat value
        msgs = await recv_until_closed(ws)
    assert [m.server_error.code for m in msgs] == [4109]
