"""A backend holds a WebRTC-egress session with the server SDK; a client joins it and plays rounds.

Real parts throughout: the embedded Motion Server, aiortc peers with host candidates on 127.0.0.1
only, real Opus, the cpu renderer and a virtual sink paced in real time.
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from engine import ConnectionState, ConversationState
from engine.rtc.ice import candidate_addresses
from plugins.transport_rtc import RtcClient

from .conftest import RATE, loudness_db, mouth_darkness, send_paced, webrtc_session


async def _render_on_the_audio_clock(view, samples: list, played: asyncio.Event) -> None:
    """Advance the sink 40 ms whenever that much audio is there and render a frame for it: every 40 ms
    of the round gets a frame however slow rendering is, and the clock waits for audio, never runs dry."""
    controller = view.controller
    while not played.is_set():
        sink = controller.audio_sink
        if sink is None or sink.queued_samples() < RATE // 25:
            await asyncio.sleep(0.005)
            continue
        sink.advance(RATE // 25)
        rgba = await asyncio.to_thread(view.render_frame)
        if controller.pose_time is not None:
            samples.append((controller.pose_time, mouth_darkness(rgba)))
        if controller.conversation_state == ConversationState.idle and samples:
            played.set()


async def test_a_round_plays_over_webrtc_and_the_mouth_follows_the_speech(motion_server, player, speech):
    pcm = speech[: int(2.4 * RATE)]
    backend_errors, states, samples = [], [], []
    controller = player.controller
    controller.set_audio_sink("virtual")  # its clock moves only when the test advances it
    played = asyncio.Event()
    async with webrtc_session(motion_server, on_error=backend_errors.append) as session:
        assert session.join_url.startswith(f"{motion_server.base_url}/v1/rtc/sessions/{session.connection_id}/")
        client = RtcClient(controller, session.join_url, session.join_token)
        client.on_connection_state = states.append
        client_errors = []
        client.on_error = client_errors.append
        await client.start()
        # Both ends offered host candidates on 127.0.0.1 and nothing else.
        assert set(candidate_addresses(client._pc.localDescription.sdp)) == {"127.0.0.1"}
        assert set(candidate_addresses(client._pc.remoteDescription.sdp)) == {"127.0.0.1"}
        renderer = asyncio.create_task(_render_on_the_audio_clock(player, samples, played))
        try:
            await send_paced(session, pcm)
            await asyncio.wait_for(played.wait(), 30)
        finally:
            renderer.cancel()
        heard = controller.get_audio_time()
        await client.close()
    assert backend_errors == [] and client_errors == []
    assert states == [ConnectionState.connecting, ConnectionState.connected, ConnectionState.disconnected]
    # The whole round was heard (Opus and two resamplings move the end by well under a frame).
    assert abs(heard - len(pcm) / RATE) < 0.04, heard
    assert client.stats["keyframes"] >= len(pcm) / RATE * 25 - 1
    # Rendered frames: the mouth opens with the speech at the round time each frame drew.
    t, dark = np.asarray([s for s in samples if s[0] < len(pcm) / RATE - 0.05]).T
    env = np.asarray([loudness_db(pcm, x) for x in t])
    assert len(t) > 40  # one per 40 ms of the round
    assert np.corrcoef(dark, env)[0, 1] > 0.5
    loud, quiet = env > np.percentile(env, 70), env < np.percentile(env, 20)
    assert dark[loud].mean() > 2 * dark[quiet].mean() + 1e-3


async def test_an_interrupt_from_the_backend_stops_audio_and_motion_mid_round(motion_server, player, speech):
    pcm = speech[: int(3.0 * RATE)]
    controller = player.controller
    async with webrtc_session(motion_server) as session:
        client = RtcClient(controller, session.join_url, session.join_token)
        await client.start()
        sender = asyncio.create_task(send_paced(session, pcm, speed=6.0))
        while controller.get_audio_time() < 0.6:
            await asyncio.sleep(0.02)
        await sender
        await session.interrupt()
        await controller.wait_for_conversation_state(ConversationState.idle, timeout=3)
        stopped_at = controller.get_audio_time()
        await asyncio.sleep(0.5)
        # Nothing of the rest of the round plays, and no motion for it is taken any more.
        assert controller.get_audio_time() == stopped_at
        assert stopped_at < 2.0
        assert controller.conversation_state == ConversationState.idle
        # The next round plays normally.
        await send_paced(session, pcm[: RATE // 2], speed=6.0)
        await controller.wait_for_conversation_state(ConversationState.playing, timeout=5)
        await controller.wait_for_conversation_state(ConversationState.idle, timeout=5)
        await client.close()


async def test_a_client_that_leaves_ends_only_its_own_egress_and_can_join_again(motion_server, player, speech):
    controller = player.controller
    errors = []
    async with webrtc_session(motion_server, on_error=errors.append) as session:
        first = RtcClient(controller, session.join_url, session.join_token)
        await first.start()
        await send_paced(session, speech[: RATE // 2], speed=6.0)
        await controller.wait_for_conversation_state(ConversationState.playing, timeout=5)
        await first.close()  # leaves mid-round
        await asyncio.sleep(0.3)
        assert session.connection_id is not None and not errors  # the session goes on
        token = await session.new_join_token()
        again = RtcClient(controller, session.join_url, token)
        await again.start()
        await send_paced(session, speech[: RATE], speed=6.0)
        await controller.wait_for_conversation_state(ConversationState.idle, timeout=10)
        assert again.stats["keyframes"] >= 24
        assert abs(controller.get_audio_time() - 1.0) < 0.04
        await again.close()
    assert errors == []


@pytest.mark.slow
async def test_the_server_killed_mid_round_is_reported_and_what_arrived_plays_out(server_process, player, speech):
    import signal

    controller = player.controller
    errors, states, backend_errors = [], [], []
    session = webrtc_session(server_process, on_error=backend_errors.append)
    await session.init()
    await session.start()
    client = RtcClient(controller, session.join_url, session.join_token)
    client.on_error, client.on_connection_state = errors.append, states.append
    await client.start()
    await send_paced(session, speech[: 4 * RATE], speed=8.0)  # all queued on the server
    while controller.get_audio_time() < 0.8:
        await asyncio.sleep(0.02)
    server_process.proc.send_signal(signal.SIGKILL)
    await controller.wait_for_conversation_state(ConversationState.idle, timeout=10)
    heard = controller.get_audio_time()
    assert 0.8 < heard < 4.0  # what had arrived played; the rest never came
    assert states[-1] == ConnectionState.failed
    assert [e.code.value for e in errors] == ["websocketClosedUnexpected"]
    await asyncio.wait_for(client.close(), 3)
    await asyncio.wait_for(session.close(), 3)
    assert backend_errors and backend_errors[-1].code.value == "connectionClosed"


async def test_pause_and_resume_keep_the_round_and_its_motion(motion_server, player, speech):
    controller = player.controller
    pcm = speech[: int(1.5 * RATE)]
    async with webrtc_session(motion_server) as session:
        client = RtcClient(controller, session.join_url, session.join_token)
        await client.start()
        await send_paced(session, pcm, speed=6.0)
        while controller.get_audio_time() < 0.4:
            await asyncio.sleep(0.02)
        controller.pause()
        assert controller.conversation_state == ConversationState.paused
        await asyncio.sleep(0.1)  # the block the device was playing when paused finishes
        held = controller.get_audio_time()
        await asyncio.sleep(0.4)  # audio keeps arriving from the track while paused; none of it plays
        assert controller.get_audio_time() == held
        await controller.resume()
        await controller.wait_for_conversation_state(ConversationState.idle, timeout=10)
        assert abs(controller.get_audio_time() - len(pcm) / RATE) < 0.04  # all of it, once, in order
        await client.close()


async def test_disposing_the_view_mid_round_leaves_the_egress(motion_server, player, speech):
    async with webrtc_session(motion_server) as session:
        client = RtcClient(player.controller, session.join_url, session.join_token)
        await client.start()
        await send_paced(session, speech[:RATE], speed=6.0)
        await player.controller.wait_for_conversation_state(ConversationState.playing, timeout=5)
        player.dispose()
        for _ in range(100):  # the next audio frame finds the controller gone and closes the client
            if client.state == ConnectionState.disconnected:
                break
            await asyncio.sleep(0.05)
        assert client.state == ConnectionState.disconnected
        await asyncio.sleep(0.3)
        assert motion_server.server.rtc.get(session.connection_id).peers == {}  # the server let it go
