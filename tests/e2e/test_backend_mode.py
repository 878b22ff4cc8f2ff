"""Backend mode with a protocol-only relay: the app's server talks to the Motion Server with nothing
but protocol.md (raw websockets + message_pb2) and hands the raw animation messages to
``yield_frames_data``; the engine plays them."""

from __future__ import annotations

import asyncio

import numpy as np

from engine import AudioFormat, AvatarSDK, AvatarView, Configuration, ConversationState, Offscreen
from engine.avatar.manager import AvatarManager
from engine.demo import SPEECH_CLIP
from engine.demo.audio import load_speech
from tests.server.raw_client import audio, open_session, recv_round

from .test_direct_mode import loudness_db, mouth_darkness


async def test_relayed_raw_messages_play_through_yield_frames_data(motion_server):
    await AvatarSDK.initialize(motion_server.app_id, Configuration(
        custom_endpoint=motion_server.base_url, driving_service_mode="backend",
        audio_format=AudioFormat(sample_rate=16000)))
    avatar = await AvatarManager.shared.load("demo")
    pcm, rate = load_speech(SPEECH_CLIP)
    pcm = pcm[: 2 * rate]

    # The app's backend: a token from the console API, then the protocol by hand.
    ws, _ = await open_session(motion_server.ingress_url("demo"), motion_server.headers(await motion_server.token()))
    raw = pcm.astype("<i2").tobytes()
    for at in range(0, len(raw), 3200):
        await ws.send(audio("relay", raw[at:at + 3200], at + 3200 >= len(raw)))
    relayed = [m.SerializeToString() for m in await recv_round(ws, "relay")]
    await ws.close()

    view = AvatarView(avatar, Offscreen(160, 160), backend="cpu")
    controller = view.controller
    controller.set_audio_sink("virtual")
    try:
        cid = controller.yield_audio_data(pcm, end=True)
        assert controller.yield_frames_data(relayed[:-1], "some-other-conversation") is False  # dropped
        assert controller.yield_frames_data(relayed[:-1], cid) is False
        assert controller.yield_frames_data(relayed[-1:], cid) is True  # the final payload
        sink = controller.audio_sink
        darkness = []
        for _ in range(2 * 25 + 10):
            darkness.append(mouth_darkness(await asyncio.to_thread(view.render_frame, 60.0)))
            sink.advance(rate // 25)
        assert controller.conversation_state == ConversationState.idle
    finally:
        view.dispose()
    darkness = np.asarray(darkness)
    # While the speech plays (after it, the controller eases back to idle on its own schedule).
    speech = darkness[: pcm.size // 640]
    assert np.corrcoef(speech, loudness_db(pcm, speech.size))[0, 1] > 0.6
