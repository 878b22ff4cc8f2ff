"""A session with EGRESS_TYPE_WEBRTC_VIDEO through the real server: configure, WHEP join, speech, limits."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from websockets.asyncio.client import connect

from engine import AvatarSDK
from engine.demo import SPEECH_CLIP
from engine.demo.audio import load_speech
from engine.rtc.codes import RtcErrorCode
from engine.server import MotionServer
from engine.server.provision import provision_if_empty
from engine.server.video import VideoSettings
from engine.wire import message_pb2 as pb

from ..server import raw_client
from .viewer import Viewer

RATE = 16000


@pytest.fixture
async def video_server(tmp_path):
    server = MotionServer(data_dir=tmp_path / "data",
                          video=VideoSettings(max_sessions=1, width=96, height=96, backend="cpu"))
    setup = await provision_if_empty(server.store)
    await server.start("127.0.0.1", 0)
    try:
        yield server, setup
    finally:
        await server.stop()
        AvatarSDK.cleanup()


async def token(server, setup) -> str:
    import aiohttp
    import time

    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.base_url}/v1/console/session-tokens", headers={"X-Api-Key": setup.api_key},
                             json={"expireAt": int(time.time()) + 600}) as resp:
            return (await resp.json())["sessionToken"]


async def open_video_session(server, setup, **params):
    url = f"{server.endpoints.ingress}/websocket?id=demo"
    ws = await connect(url, additional_headers={"X-App-ID": setup.app_id,
                                                "X-Session-Key": await token(server, setup)}, max_size=None)
    msg = pb.Message(type=pb.MESSAGE_TYPE_CLIENT_CONFIGURE_SESSION)
    cfg = msg.client_configure_session
    cfg.sample_rate = RATE
    cfg.egress_type = pb.EGRESS_TYPE_WEBRTC_VIDEO
    for key, value in params.items():
        cfg.extra_params[key] = value
    await ws.send(msg.SerializeToString())
    reply = raw_client.parse(await asyncio.wait_for(ws.recv(), 60))
    return ws, reply


async def test_a_video_session_plays_speech_to_a_viewer_that_joined_with_its_token(video_server):
    server, setup = video_server
    ws, reply = await open_video_session(server, setup)
    viewer = Viewer()
    try:
        assert reply.type == pb.MESSAGE_TYPE_SERVER_CONFIRM_SESSION, reply
        confirm = reply.server_confirm_session
        assert confirm.join_url.startswith(server.base_url) and confirm.join_token
        status, body = await viewer.join_url(confirm.join_url, "not-the-token")
        assert status == 401, body
        status, body = await viewer.join_url(confirm.join_url, confirm.join_token)
        assert status == 201, body
        await viewer.wait(lambda: len(viewer.video) >= 5 and viewer.states == ["idle"], 120)
        assert viewer.video[-1][1].shape == (96, 96, 3)
        pcm, _ = load_speech(SPEECH_CLIP, RATE)
        pcm = pcm[: 2 * RATE]
        for at in range(0, pcm.size, RATE // 5):
            await ws.send(raw_client.audio("r1", pcm[at:at + RATE // 5].tobytes(), end=at + RATE // 5 >= pcm.size))
        await viewer.wait(lambda: "playing" in viewer.states and viewer.states[-1] == "idle", 60)
        heard = np.concatenate([a.reshape(-1) for _, a in viewer.audio])
        assert np.abs(heard).max() > 2000  # the speech arrived as audio
    finally:
        await viewer.close()
        await ws.close()


async def test_the_server_refuses_video_sessions_beyond_its_render_capacity(video_server):
    server, setup = video_server
    first, reply = await open_video_session(server, setup)
    try:
        assert reply.type == pb.MESSAGE_TYPE_SERVER_CONFIRM_SESSION
        second, refused = await open_video_session(server, setup)
        assert refused.type == pb.MESSAGE_TYPE_SERVER_ERROR
        assert refused.server_error.code == RtcErrorCode.RENDER_CAPACITY
        assert "at most 1 video session" in refused.server_error.message
        await second.close()
    finally:
        await first.close()


async def test_bad_video_parameters_are_refused_with_a_message(video_server):
    server, setup = video_server
    ws, reply = await open_video_session(server, setup, video_width="99")
    try:
        assert reply.type == pb.MESSAGE_TYPE_SERVER_ERROR
        assert reply.server_error.code == RtcErrorCode.CONFIG_INVALID
        assert "even number of pixels" in reply.server_error.message
    finally:
        await ws.close()


async def test_a_backend_using_the_server_sdk_starts_a_video_session_a_viewer_watches(video_server):
    from engine.server_sdk import new_avatar_session

    server, setup = video_server
    session = new_avatar_session(avatar_id="demo", api_key=setup.api_key, app_id=setup.app_id,
                                 console_endpoint_url=f"{server.base_url}/v1/console",
                                 ingress_endpoint_url=server.endpoints.ingress, sample_rate=RATE,
                                 egress="webrtc-video")
    viewer = Viewer()
    try:
        await session.init()
        await session.start()
        status, body = await viewer.join_url(session.join_url, session.join_token)
        assert status == 201, body
        await viewer.wait(lambda: viewer.states == ["idle"] and len(viewer.video) >= 3, 120)
        pcm, _ = load_speech(SPEECH_CLIP, RATE)
        await session.send_audio(pcm[: RATE].tobytes(), end=True)
        await viewer.wait(lambda: "playing" in viewer.states and viewer.states[-1] == "idle", 60)
    finally:
        await viewer.close()
        await session.close()
