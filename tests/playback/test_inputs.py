"""Bad input and wrong state get AvatarError with the right code and a message that says what to do."""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest

from engine import AvatarError, ErrorCode
from engine.playback.controller import AvatarController
from engine.playback.simulated import SimulatedSink
from engine.wire import encode_animation

from .conftest import RATE, keyframes, payloads, tone


def raises(code, fn, *args, match=None, **kwargs):
    with pytest.raises(AvatarError) as err:
        fn(*args, **kwargs)
    assert err.value.code == code, err.value
    if match:
        assert match in err.value.message, err.value.message
    return err.value


async def test_audio_chunks_are_checked(ctl):
    raises(ErrorCode.playbackStartFailed, ctl.yield_audio_data, b"\x00\x01\x02", match="odd")
    raises(ErrorCode.playbackStartFailed, ctl.yield_audio_data, "text", match="bytes")
    raises(ErrorCode.playbackStartFailed, ctl.yield_audio_data, np.zeros(4, np.float32), match="int16")
    raises(ErrorCode.playbackStartFailed, ctl.yield_audio_data, tone(0.1), end="yes", match="end")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(RATE)
        w.writeframes(tone(0.1))
    raises(ErrorCode.playbackStartFailed, ctl.yield_audio_data, buf.getvalue(), match="WAV")
    assert ctl.conversation_state.value == "idle"  # nothing half-started
    assert ctl.yield_audio_data(memoryview(tone(0.1))) is not None
    assert ctl.yield_audio_data(np.zeros(160, np.int16)) is not None


async def test_frames_are_checked(ctl):
    cid = ctl.yield_audio_data(tone(0.5))
    raises(ErrorCode.serverError, ctl.yield_frames_data, [b"\xff\xff\xff garbage"], cid)
    raises(ErrorCode.serverError, ctl.yield_frames_data, [123], cid, match="payload 0")
    raises(ErrorCode.serverError, ctl.yield_frames_data, payloads(keyframes(5)), None)
    wrong_dim = np.zeros((5, 30), np.float32)  # motion for an avatar with 10 expressions, not the demo's 50
    raises(ErrorCode.invalidAvatarMetadata, ctl.yield_frames_data, [encode_animation("c", "r", wrong_dim, 0, False)],
           cid, match="expression")
    assert ctl.yield_frames_data([bytearray(p) for p in payloads(keyframes(5), end=False)], cid) is False


async def test_volume_is_validated_and_applied(ctl):
    for bad in (-0.1, 1.5, float("nan"), "0.5", True, None):
        raises(ErrorCode.playbackStartFailed, ctl.set_volume, bad, match="0.0..1.0")
    ctl.set_volume(0.25)
    assert ctl.get_volume() == 0.25
    ctl.yield_audio_data(np.full(320, 16384, np.int16).tobytes(), end=True)
    out = ctl.audio_sink.advance(320)
    np.testing.assert_allclose(out, 0.125)


async def test_mode_is_enforced(ctl):
    raises(ErrorCode.playbackStartFailed, ctl.send, tone(0.1), match="backend mode")
    with pytest.raises(AvatarError) as err:
        await ctl.start()
    assert err.value.code == ErrorCode.playbackStartFailed


async def test_without_initialize(avatar):
    ctl = AvatarController(avatar, audio_sink="virtual")
    out = np.zeros(ctl._dim, np.float32)
    ctl.frame_pose(out)  # the idle loop needs no SDK
    raises(ErrorCode.appIDUnrecognized, ctl.yield_audio_data, tone(0.1), match="initialize")
    raises(ErrorCode.animationPlayerNotInitialized, ctl.frame_pose, np.zeros(3, np.float32))
    raises(ErrorCode.animationPlayerNotInitialized, ctl.frame_pose, np.zeros(ctl._dim, np.float64))
    ctl.dispose()


async def test_sink_rate_must_match_the_configuration(backend, avatar):
    ctl = AvatarController(avatar, audio_sink=SimulatedSink(48000))
    raises(ErrorCode.playbackInitFailed, ctl.yield_audio_data, tone(0.1), match="48000 Hz")
    ctl.dispose()
    raises(ErrorCode.playbackInitFailed, SimulatedSink, 1000)
    raises(ErrorCode.audioContextNotInitialized, AvatarController(avatar, audio_sink="nope").yield_audio_data,
           tone(0.1), match="available")


async def test_disposed_controller_refuses_calls(ctl):
    ctl.yield_audio_data(tone(0.2))
    sink = ctl.audio_sink
    ctl.dispose()
    ctl.dispose()
    raises(ErrorCode.animationPlayerNotInitialized, ctl.yield_audio_data, tone(0.1), match="disposed")
    assert sink._closed and ctl.on_conversation_state is None


async def test_too_much_queued_audio_is_refused(backend, avatar):
    ctl = AvatarController(avatar, audio_sink="virtual")
    minute = tone(60.0)
    for _ in range(10):
        ctl.yield_audio_data(minute)
    raises(ErrorCode.playbackStartFailed, ctl.yield_audio_data, minute, match="limit")
    ctl.dispose()
