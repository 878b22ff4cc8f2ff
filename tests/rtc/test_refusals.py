"""Joins that must be refused, each with its own error: bad, expired and foreign tokens, the join limits,
the join timeout, and egress types the server does not have."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
import websockets

from engine import ErrorCode
from engine.errors import AvatarError
from engine.rtc import framing
from engine.rtc.ice import IcePolicy, new_peer_connection, set_local_description
from engine.server_sdk import (AvatarSDKError, AvatarSDKErrorCode, LiveKitEgressConfig, WebRtcEgressConfig,
                                 new_avatar_session)
from engine.wire import message_pb2 as pb
from plugins.transport_rtc import RtcClient

from .conftest import webrtc_session


async def _offer() -> str:
    pc = new_peer_connection()
    pc.createDataChannel(framing.LABEL, negotiated=True, id=framing.CHANNEL_ID)
    pc.addTransceiver("audio", direction="recvonly")
    await set_local_description(pc, await pc.createOffer(), IcePolicy())
    sdp = pc.localDescription.sdp
    await pc.close()
    return sdp


async def _post(url: str, token: str, sdp: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http:
        async with http.post(url, data=sdp, headers={"Authorization": f"Bearer {token}",
                                                     "Content-Type": "application/sdp"}) as resp:
            body = await resp.json() if resp.content_type == "application/json" else {}
            return resp.status, (body.get("errors") or [{}])[0].get("code", "")


async def test_bad_expired_and_foreign_join_tokens_are_refused(motion_server, player):
    async with webrtc_session(motion_server) as a, webrtc_session(motion_server) as b:
        sdp = await _offer()
        signer = motion_server.server.rtc.signer
        expired, _ = signer.issue(a.connection_id, motion_server.app_id, 60, now=time.time() - 120)
        forged = a.join_token[:-4] + ("AAAA" if not a.join_token.endswith("AAAA") else "BBBB")
        session_token = await motion_server.token()  # a Motion Server session token is no join token
        cases = {"": (401, "joinTokenMissing"), "not-a-token": (401, "joinTokenInvalid"),
                 forged: (401, "joinTokenInvalid"), session_token: (401, "joinTokenInvalid"),
                 expired: (401, "joinTokenExpired"), b.join_token: (403, "joinTokenWrongSession")}
        for token, expected in cases.items():
            assert await _post(a.join_url, token, sdp) == expected, token[:20]
        # The client maps them onto the SDK's codes.
        for token, code in ((expired, ErrorCode.sessionTokenExpired), (b.join_token, ErrorCode.sessionTokenInvalid)):
            client = RtcClient(player.controller, a.join_url, token)
            with pytest.raises(AvatarError) as refused:
                await client.start()
            assert refused.value.code == code
            assert client.state.value == "failed"


async def test_join_limits_each_have_their_own_error(motion_server, player):
    limits = WebRtcEgressConfig(max_joins=2, max_peers=1)
    async with webrtc_session(motion_server, webrtc_egress=limits) as session:
        first = RtcClient(player.controller, session.join_url, session.join_token)
        await first.start()
        assert await _post(session.join_url, session.join_token, await _offer()) == (409, "peerLimitExceeded")
        await first.close()
        await asyncio.sleep(0.1)
        assert (await _post(session.join_url, session.join_token, await _offer()))[0] == 201  # join 2 of 2
        client = RtcClient(player.controller, session.join_url, session.join_token)
        with pytest.raises(AvatarError) as refused:
            await client.start()
        assert refused.value.code == ErrorCode.concurrentLimitExceeded
        assert "joined 2 times" in refused.value.message
    # A limit over the server's own is refused when the session is configured.
    with pytest.raises(AvatarSDKError) as over:
        async with webrtc_session(motion_server, webrtc_egress=WebRtcEgressConfig(max_joins=10_000)):
            pass
    assert over.value.code == AvatarSDKErrorCode.invalidEgressConfig, over.value
    assert "max_joins" in over.value.message


async def test_no_join_within_the_join_timeout_ends_the_session(motion_server):
    errors, closed = [], asyncio.Event()
    session = webrtc_session(motion_server, webrtc_egress=WebRtcEgressConfig(join_timeout_s=0.3),
                             on_error=errors.append, on_close=closed.set)
    await session.init()
    await session.start()
    await asyncio.wait_for(closed.wait(), 5)
    assert errors[0].code == AvatarSDKErrorCode.idleTimeout
    assert errors[0].server_code == "4110" and "no peer joined" in errors[0].message


async def test_egress_types_the_server_lacks_are_refused_by_name(motion_server):
    msg = pb.Message(type=pb.MESSAGE_TYPE_CLIENT_CONFIGURE_SESSION)
    msg.client_configure_session.sample_rate = 16000
    msg.client_configure_session.egress_type = pb.EGRESS_TYPE_LIVEKIT
    token = await motion_server.token()
    async with websockets.connect(motion_server.ingress_url("demo"), additional_headers=motion_server.headers(token)) \
            as ws:
        await ws.send(msg.SerializeToString())
        reply = pb.Message()
        reply.ParseFromString(await ws.recv())
    assert reply.type == pb.MESSAGE_TYPE_SERVER_ERROR
    assert "EGRESS_TYPE_LIVEKIT is not supported" in reply.server_error.message
    with pytest.raises(AvatarSDKError) as refused:
        new_avatar_session(avatar_id="demo", app_id="a", api_key="k", region="local",
                           livekit_egress=LiveKitEgressConfig(url="wss://livekit.example"))
    assert refused.value.code == AvatarSDKErrorCode.invalidEgressConfig
