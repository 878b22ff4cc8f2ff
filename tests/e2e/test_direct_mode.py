"""Direct mode end to end on loopback: SDK → controller → direct transport → embedded server →
procedural motion → controller → rendered frames, with the audio clock driven frame by frame."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from engine import AudioFormat, AvatarSDK, AvatarView, Configuration, ConnectionState, ConversationState, Offscreen
from engine.avatar.manager import AvatarManager
from engine.demo import SPEECH_CLIP
from engine.demo.audio import load_speech
from engine.demo.offline import render_offline
from engine.server import MotionServer

SIZE = 192


@pytest.fixture
async def demo_avatar(motion_server):
    """The SDK initialised against the running server with a token from its console API, and the demo avatar."""
    await AvatarSDK.initialize(motion_server.app_id, Configuration(custom_endpoint=motion_server.base_url,
                                                                   audio_format=AudioFormat(sample_rate=16000)))
    AvatarSDK.set_session_token(await motion_server.token())
    return await AvatarManager.shared.load("demo")


def loudness_db(pcm: np.ndarray, frames: int) -> np.ndarray:
    """Loudness (dB) of the 40 ms of 16 kHz audio each video frame starts: the envelope a mouth follows."""
    rms = np.sqrt(np.square(pcm[: frames * 640].astype(float)).reshape(frames, 640).mean(axis=1))
    return 20 * np.log10(rms + 1.0)


def mouth_darkness(rgba: np.ndarray) -> float:
    """Share of dark pixels in the mouth region: the open mouth shows its dark interior."""
    h, w = rgba.shape[:2]
    roi = rgba[int(0.62 * h):int(0.85 * h), int(0.35 * w):int(0.65 * w), :3].astype(np.float32)
    return float((roi.mean(axis=2) < 60).mean())


async def test_rendered_mouth_follows_the_speech_envelope(demo_avatar):
    pcm, rate = load_speech(SPEECH_CLIP)
    pcm = pcm[: int(3.0 * rate)]
    view = AvatarView(demo_avatar, Offscreen(SIZE, SIZE), backend="cpu")
    darkness = []
    states = []
    view.controller.on_connection_state = states.append

    def on_frame(index, rgba, audio):
        darkness.append(mouth_darkness(rgba))

    try:
        result = await render_offline(view, pcm, rate, fps=25, on_frame=on_frame, tail_s=0.2)
    finally:
        view.dispose()
    assert result.audio_samples == pcm.size + int(0.2 * rate)  # every sample played, no held gaps
    assert result.frames == 1 + int(np.ceil(result.audio_samples / (rate / 25)))
    assert states[:2] == [ConnectionState.connecting, ConnectionState.connected]
    # Frame j shows stream position j/25 s: compare with the loudness of the 40 ms that starts there,
    # while the speech plays (after it the controller eases back to idle on its own schedule).
    frames = pcm.size // 640
    darkness = np.asarray(darkness[:frames])
    env = loudness_db(pcm, frames)
    assert np.corrcoef(darkness, env)[0, 1] > 0.6
    loud, quiet = env > np.percentile(env, 70), env < np.percentile(env, 20)
    assert darkness[loud].mean() > 3 * darkness[quiet].mean() + 1e-3


async def test_server_restart_mid_round_reconnects_and_audio_plays_on(motion_server, demo_avatar):
    """The server goes away mid-round and comes back: audio never stops, the connection recovers."""
    pcm, rate = load_speech(SPEECH_CLIP)
    view = AvatarView(demo_avatar, Offscreen(64, 64), backend="cpu")
    controller = view.controller
    states, errors = [], []
    controller.on_connection_state = states.append
    controller.on_error = errors.append
    controller.set_audio_sink("virtual")
    restarted = None
    try:
        await controller.initialize_audio_context()
        await controller.start()
        sink = controller.audio_sink
        controller.send(pcm, end=True)
        step = rate // 25

        async def tick() -> None:
            """One video frame: the device plays 40 ms, then the view renders (which updates the controller)."""
            before = sink.played_samples()
            sink.advance(step)
            await asyncio.to_thread(view.render_frame, 60.0)
            assert sink.played_samples() > before or sink.position() >= pcm.size  # the audio never stalls

        for _ in range(25):  # one second of playback
            await tick()
        old = motion_server.server
        port, data_dir = old.port, old.data_dir
        await old.stop()
        restarted = MotionServer(data_dir=data_dir, motion_generator="procedural")  # as the fixture's
        await restarted.start("127.0.0.1", port)
        for _ in range(int(pcm.size / step) + 50):
            if controller.conversation_state != ConversationState.playing:
                break
            await tick()
        assert controller.conversation_state == ConversationState.idle
        for _ in range(200):
            if states[-1] == ConnectionState.connected:
                break
            await asyncio.sleep(0.01)
        assert sink.played_samples() == pcm.size
        assert states[:2] == [ConnectionState.connecting, ConnectionState.connected]
        assert ConnectionState.connecting in states[2:] and states[-1] == ConnectionState.connected
        assert errors and all(e.code.value.startswith(("websocket", "server")) for e in errors)
    finally:
        view.dispose()
        if restarted is not None:
            await restarted.stop()


async def test_server_killed_mid_round_audio_plays_on_and_state_fails(server_process):
    """SIGKILL the server process mid-round: the audio plays to the end, the connection reports failed."""
    import signal

    await AvatarSDK.initialize(server_process.app_id, Configuration(custom_endpoint=server_process.base_url,
                                                                    audio_format=AudioFormat(sample_rate=16000)))
    AvatarSDK.set_session_token(await server_process.token())
    avatar = await AvatarManager.shared.load("demo")
    pcm, rate = load_speech(SPEECH_CLIP)
    view = AvatarView(avatar, Offscreen(64, 64), backend="cpu")
    controller = view.controller
    states, errors = [], []
    controller.on_connection_state = states.append
    controller.on_error = errors.append
    controller.set_audio_sink("virtual")
    try:
        await controller.initialize_audio_context()
        await controller.start()
        sink = controller.audio_sink
        controller.send(pcm, end=True)
        step = rate // 25
        for frame in range(int(pcm.size / step) + 50):
            if frame == 25:  # one second in
                server_process.proc.send_signal(signal.SIGKILL)
            if controller.conversation_state != ConversationState.playing:
                break
            sink.advance(step)
            await asyncio.to_thread(view.render_frame, 60.0)
            await asyncio.sleep(0.02)  # real time passes for the reconnect attempts
        assert sink.played_samples() == pcm.size  # the audio played to its end
        for _ in range(1500):  # bounded reconnect attempts with backoff (~6 s) end in failed
            if states[-1] == ConnectionState.failed:
                break
            await asyncio.sleep(0.01)
        assert states[:2] == [ConnectionState.connecting, ConnectionState.connected]
        assert states[-1] == ConnectionState.failed
        assert errors[0].code.value == "websocketClosedAbnormally"
    finally:
        view.dispose()


async def test_expired_token_then_a_fresh_one_restarts_the_session(motion_server, demo_avatar):
    """The seed's recovery: sessionTokenExpired → the app sets a new token → start() again → motion again."""
    import time

    short = motion_server.server.signer.issue(motion_server.app_id, int(time.time()) + 2)
    AvatarSDK.set_session_token(short)
    view = AvatarView(demo_avatar, Offscreen(64, 64), backend="cpu")
    controller = view.controller
    states, errors = [], []
    controller.on_connection_state = states.append
    controller.on_error = errors.append
    controller.set_audio_sink("virtual")
    try:
        await controller.initialize_audio_context()
        await controller.start()
        for _ in range(500):  # the server closes with 4010 when the token's time is up
            if states[-1] == ConnectionState.failed:
                break
            await asyncio.sleep(0.01)
        assert states[-1] == ConnectionState.failed
        assert [e.code.value for e in errors] == ["sessionTokenExpired"]
        AvatarSDK.set_session_token(await motion_server.token())
        await controller.start()
        assert controller.connection_state == ConnectionState.connected
        pcm, rate = load_speech(SPEECH_CLIP)
        controller.send(pcm[: rate], end=True)
        sink = controller.audio_sink
        darkness = []
        for _ in range(25):
            await asyncio.sleep(0.01)  # let the motion arrive
            darkness.append(mouth_darkness(await asyncio.to_thread(view.render_frame, 60.0)))
            sink.advance(rate // 25)
        assert max(darkness) > 0.01  # animated again (64 px: a few dark pixels in the open mouth)
    finally:
        view.dispose()
