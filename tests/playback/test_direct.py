"""Direct mode through a transport the tests register: connect, send, rounds, fallback, close."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

import engine.plugins
from engine import AvatarError, AvatarSDK, Configuration, ErrorCode
from engine.playback.controller import AvatarController
from engine.plugins import PluginManager

from .conftest import RATE, Recorder, run, tone
from .loopback import LoopbackPlugin, LoopbackTransport


@pytest.fixture
def transports(monkeypatch):
    LoopbackTransport.instances.clear()
    monkeypatch.setattr(engine.plugins, "_manager", PluginManager([("loopback_transports", LoopbackPlugin())]))


async def direct_controller(avatar, transport="loopback", token="tok-1"):
    await AvatarSDK.initialize("test-app", Configuration(driving_service_mode="direct", transport=transport,
                                                         audio_format={"sample_rate": RATE}))
    if token:
        AvatarSDK.set_session_token(token)
    ctl = AvatarController(avatar, audio_sink="virtual")
    return ctl, Recorder(ctl)


async def settle(condition=lambda: False, turns: int = 200):
    for _ in range(turns):
        await asyncio.sleep(0)
        if condition():
            return


async def test_a_full_round_streams_audio_and_plays_the_returned_motion(transports, avatar):
    ctl, rec = await direct_controller(avatar)
    await ctl.initialize_audio_context()
    await ctl.start()
    transport = LoopbackTransport.instances[-1]
    ctx = transport.context
    assert (ctx.app_id, ctx.avatar_id, ctx.session_token, ctx.audio_format.sample_rate) == \
        ("test-app", "demo", "tok-1", RATE)
    assert await rec.take() == [("connection_state", "connecting"), ("connection_state", "connected")]
    audio = tone(1.0)
    cid = ctl.send(audio[:16000])
    assert ctl.send(audio[16000:], end=True) == cid
    await settle(lambda: len(transport.audio.get(cid, b"")) == len(audio) and ctl._playhead.round.motion_ended)
    assert bytes(transport.audio[cid]) == audio  # every byte reached the Motion Server, in order
    run(ctl, 1.1)
    assert await rec.take() == [("conversation_state", "playing"), ("animation_state", "mono"),
                                ("conversation_state", "idle"), ("animation_state", "idle")]
    assert ctl._playhead.round.frames_end == 25
    await ctl.close()
    assert transport.closed
    assert await rec.take() == [("connection_state", "disconnected")]
    ctl.dispose()


async def test_strict_sync_releases_held_audio_as_motion_arrives_without_a_render_tick(transports, avatar):
    """An offline render moves the device only after it has drawn a frame, so motion that arrives while
    audio is held must release that audio at once, not at the next render tick: else both wait forever."""
    ctl, _ = await direct_controller(avatar)
    ctl.frame_starvation_mode = "strictSync"
    await ctl.initialize_audio_context()
    await ctl.start()
    ctl.send(tone(1.0), end=True)
    ctl.frame_pose(np.zeros(ctl._dim, np.float32))  # a render tick before any motion: the audio is held
    sink = ctl.audio_sink
    sink.advance(int(0.1 * RATE))
    assert sink.played_samples() == 0
    await settle(lambda: ctl._playhead.round.motion_ended)
    sink.advance(int(0.2 * RATE))  # no render tick since the motion came
    assert sink.played_samples() == int(0.2 * RATE)
    await ctl.close()
    ctl.dispose()


async def test_start_twice_and_start_without_token(transports, avatar):
    ctl, rec = await direct_controller(avatar, token=None)
    with pytest.raises(AvatarError) as err:
        await ctl.start()
    assert err.value.code == ErrorCode.sessionTokenInvalid and "set_session_token" in err.value.message
    AvatarSDK.set_session_token("tok-2")
    first = asyncio.ensure_future(ctl.start())
    await asyncio.sleep(0)
    with pytest.raises(AvatarError) as err:
        await ctl.start()
    assert err.value.code == ErrorCode.connectionInProgress
    await first
    with pytest.raises(AvatarError) as err:
        await ctl.start()
    assert err.value.code == ErrorCode.connectionInProgress
    with pytest.raises(AvatarError) as err:
        ctl.send(tone(0.1))
    assert err.value.code == ErrorCode.audioContextNotInitialized
    ctl.dispose()


async def test_interrupt_and_new_rounds_reach_the_transport_and_stale_motion_is_ignored(transports, avatar):
    ctl, rec = await direct_controller(avatar)
    await ctl.initialize_audio_context()
    await ctl.start()
    transport = LoopbackTransport.instances[-1]
    first = ctl.send(tone(1.0), end=True)
    await settle(lambda: ctl._playhead.round.motion_ended)
    run(ctl, 0.3)
    second = ctl.send(tone(0.5))  # new audio after end: a new round, the old one is interrupted
    await settle(lambda: second in transport.audio)
    assert transport.interrupted == [first]
    before = ctl._playhead.round.frames_end
    assert ctl._playhead.round.id == second and before > 0
    transport.replay(first, np.zeros((25, 70), np.float32), 0, True)  # late motion for the old round
    assert ctl._playhead.round.frames_end == before and ctl._playhead.round.motion_ended is False
    ctl.interrupt()
    await settle(lambda: transport.interrupted == [first, second])
    assert transport.interrupted == [first, second]
    # the second round shows speech as soon as its motion arrives (no render tick needed), then is interrupted
    assert await rec.take() == [("connection_state", "connecting"), ("connection_state", "connected"),
                                ("conversation_state", "playing"), ("animation_state", "mono"),
                                ("animation_state", "idle"), ("animation_state", "mono"),
                                ("conversation_state", "idle"), ("animation_state", "idle")]
    ctl.dispose()
    await settle(lambda: transport.closed)
    assert transport.closed


async def test_no_connection_within_the_deadline_falls_back_to_audio_only(transports, avatar):
    ctl, rec = await direct_controller(avatar, transport="silent")
    errors = []
    ctl.on_error = errors.append
    ctl.connect_timeout_s = 0.2  # the seed's 15 s, shortened for the test
    await ctl.initialize_audio_context()
    await ctl.start()  # returns: audio still plays
    await settle(lambda: errors)
    assert [e.code for e in errors] == [ErrorCode.sessionTimeout] and "0.2 s" in errors[0].message
    cid = ctl.send(tone(1.0), end=True)
    assert cid
    run(ctl, 0.5)
    ctl.interrupt()  # fallback playback is interruptible
    assert await rec.take() == [("connection_state", "connecting"), ("connection_state", "failed"),
                                ("conversation_state", "playing"), ("conversation_state", "idle")]
    assert ctl.audio_sink.played_samples() == RATE // 2
    assert LoopbackTransport.instances[-1].closed
    ctl.dispose()


async def test_refused_credentials_raise_and_report_failed(transports, avatar):
    ctl, rec = await direct_controller(avatar, transport="refusing")
    with pytest.raises(AvatarError) as err:
        await ctl.start()
    assert err.value.code == ErrorCode.sessionTokenInvalid
    events = await rec.take()
    assert events[:2] == [("connection_state", "connecting"), ("connection_state", "failed")]
    assert events[2][0] == "error" and events[2][1].code == ErrorCode.sessionTokenInvalid
    ctl.dispose()


async def test_a_connection_lost_mid_round_keeps_the_audio_playing(transports, avatar):
    ctl, rec = await direct_controller(avatar)
    await ctl.initialize_audio_context()
    await ctl.start()
    transport = LoopbackTransport.instances[-1]
    ctl.frame_starvation_mode = "strict_sync"
    ctl.send(tone(2.0)[: RATE], end=False)  # half the audio, no end: motion for 1 s only
    await settle(lambda: ctl._playhead.round.frames_end >= 24)
    run(ctl, 0.5)
    transport.drop()
    await settle()
    ctl.send(tone(2.0)[RATE:], end=True)  # the rest plays audio-only, never waiting for motion
    run(ctl, 1.6)
    assert ctl.get_audio_time() == pytest.approx(2.0)
    events = await rec.take()
    assert ("connection_state", "failed") in events
    assert events[-2:] == [("conversation_state", "idle"), ("animation_state", "idle")]
    ctl.dispose()


async def test_after_a_reconnect_new_rounds_get_motion_again(transports, avatar):
    ctl, rec = await direct_controller(avatar)
    await ctl.initialize_audio_context()
    await ctl.start()
    transport = LoopbackTransport.instances[-1]
    transport.drop()
    ctl.send(tone(0.4), end=True)  # while disconnected: audio only
    run(ctl, 0.5)
    transport.come_back()
    cid = ctl.send(tone(0.4), end=True)
    await settle(lambda: ctl._playhead.round.motion_ended)
    assert cid in transport.audio
    run(ctl, 0.5)
    events = [e for e in await rec.take() if e[0] != "error"]
    assert events == [("connection_state", "connecting"), ("connection_state", "connected"),
                      ("connection_state", "failed"), ("conversation_state", "playing"),
                      ("conversation_state", "idle"), ("connection_state", "connecting"),
                      ("connection_state", "connected"), ("conversation_state", "playing"),
                      ("animation_state", "mono"), ("conversation_state", "idle"), ("animation_state", "idle")]
    ctl.dispose()


async def test_unknown_transport_name(transports, avatar):
    ctl, _ = await direct_controller(avatar, transport="carrier-pigeon")
    with pytest.raises(AvatarError) as err:
        await ctl.start()
    assert err.value.code == ErrorCode.networkLayerNotAvailable and "loopback" in err.value.message
    ctl.dispose()


class LaggingTransport(LoopbackTransport):
    """Returns motion for the first chunk of each round only, so the audio clock runs past it."""

    async def send_audio(self, req_id: str, pcm16: bytes, end: bool) -> None:
        if req_id in self.audio:
            self.audio[req_id].extend(pcm16)
            return
        await super().send_audio(req_id, pcm16, end)


class LaggingPlugin:
    @engine.hookimpl
    def register_transports(self, register):
        register("lagging", LaggingTransport)


async def test_close_during_a_strict_sync_stall_reports_the_stall_over(monkeypatch, avatar):
    monkeypatch.setattr(engine.plugins, "_manager", PluginManager([("lagging_transport", LaggingPlugin())]))
    ctl, rec = await direct_controller(avatar, transport="lagging")
    ctl.frame_starvation_mode = "strictSync"
    await ctl.initialize_audio_context()
    await ctl.start()
    cid = ctl.send(tone(0.2))
    ctl.send(tone(0.8))  # motion covers only the first 0.2 s of this round
    await settle(lambda: ctl._playhead.round is not None and ctl._playhead.round.frames_end > 0)
    run(ctl, 0.6)
    stalls = [value for name, value in await rec.take() if name == "playback_stall"]
    assert stalls[-1] is True  # audio waits where the motion ran out
    await ctl.close()  # audio-only from here: nothing waits for motion any more
    assert await rec.take() == [("connection_state", "disconnected"), ("playback_stall", False)]
    assert ctl._playhead.round.id == cid and ctl._playhead.round.audio_only
    ctl.dispose()
