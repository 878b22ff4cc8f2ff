"""Motion that used to kill a view for good (issue 13, item 7): out-of-range keyframes are refused where
they enter, the binding survives a collapsed mesh, and the render thread survives a failing frame."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from engine import AvatarError, AvatarSDK, Configuration, ErrorCode
from engine.avatar.package import load_bundled
from engine.motion.buffer import MotionBuffer
from engine.motion.layout import MOTION_LIMIT
from engine.playback.controller import AvatarController
from engine.prepare import AvatarPreparer
from engine.render.camera import intrinsics, look_at_viewmat
from engine.render.containers import Offscreen
from engine.render.view import AvatarView
from engine.wire import AnimationDecoder, encode_animation

MARK = 0.125  # a float the encoder writes once, replaced by the hostile value


@pytest.fixture(scope="module")
def demo():
    return load_bundled("demo")


def _payload(value: float, field: int = 0, frames: int = 3, dim: int = 70) -> bytes:
    """An animation envelope whose first keyframe has ``value`` at index ``field`` (bits patched after encoding)."""
    kf = np.zeros((frames, dim), np.float32)
    kf[0, field] = MARK
    data = bytearray(encode_animation("conn", "req", kf, 0, True))
    at = data.index(struct.pack("<f", MARK))
    data[at:at + 4] = struct.pack("<f", value)
    return bytes(data)


HOSTILE = [1e4, -1e4, 3e38, MOTION_LIMIT * 1.01, float("nan"), float("inf")]


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("field", [0, 3, 19, 69], ids=["translation", "rotation", "eyelid", "expression"])
def test_the_wire_decoder_refuses_out_of_range_motion(value, field):
    with pytest.raises(AvatarError) as info:
        AnimationDecoder(50).decode(_payload(value, field))
    assert info.value.code == ErrorCode.serverError
    assert ("beyond ±10" if np.isfinite(value) else "NaN or infinite") in info.value.message


@pytest.mark.parametrize("value", [MOTION_LIMIT, -MOTION_LIMIT, 0.0, -0.0, 1e-45])
def test_the_wire_decoder_keeps_values_at_the_limit(value):
    assert AnimationDecoder(50).decode(_payload(value)).keyframes[0, 0] == np.float32(value)


@pytest.mark.parametrize("value", HOSTILE)
def test_motion_buffer_refuses_out_of_range_keyframes(value):
    buf = MotionBuffer(70)
    buf.begin_round("r")
    kf = np.zeros((4, 70), np.float32)
    kf[2, 5] = value
    with pytest.raises(AvatarError, match="±10"):
        buf.push("r", 0, kf)
    assert buf.frames_available == 0


async def test_yield_frames_data_refuses_hostile_motion_and_keeps_playing(demo):
    await AvatarSDK.initialize("test-app", Configuration(driving_service_mode="backend",
                                                         audio_format={"sample_rate": 16000}))
    ctl = AvatarController(demo, audio_sink="virtual")
    try:
        cid = ctl.yield_audio_data(np.zeros(16000, "<i2").tobytes())
        for value in (1e4, 3e38):
            with pytest.raises(AvatarError) as info:
                ctl.yield_frames_data([_payload(value)], cid)
            assert info.value.code == ErrorCode.serverError and "beyond ±10" in info.value.message
        good = encode_animation("conn", "req", np.full((3, 70), 0.1, np.float32), 0, True)
        assert ctl.yield_frames_data([good], cid) is True
    finally:
        ctl.dispose()


def test_a_collapsed_mesh_binds_to_finite_numbers(demo):
    """Translation far past float32's resolution of the head collapses every triangle; binding must not divide by 0."""
    preparer = AvatarPreparer(demo.head, demo.gaussians)
    cam = demo.camera
    pose = np.zeros(demo.idle.shape[1], np.float32)
    pose[0:3] = 3e38
    pose[20:] = 3e38
    frame = preparer(pose, look_at_viewmat(cam), intrinsics(cam, 64, 64), 64, 64)
    assert frame.count >= 0


def test_the_render_thread_survives_a_failing_frame(demo, monkeypatch):
    view = AvatarView(demo, Offscreen(96, 72), backend="cpu")
    try:
        first = view.render_frame()
        real = view.controller.frame_pose
        calls = {"n": 0}

        def failing_once(out):
            calls["n"] += 1
            if calls["n"] == 1:
                raise ZeroDivisionError("float division by zero")  # what numba raised for a collapsed triangle
            real(out)

        monkeypatch.setattr(view.controller, "frame_pose", failing_once)
        dropped = view.render_frame(timeout=5)  # answered with the last good frame, not a 15 s wait
        assert dropped.shape == first.shape
        again = view.render_frame(timeout=5)  # and the view keeps rendering
        assert again.shape == first.shape and calls["n"] >= 2
        assert view._render.frames_dropped == 1 and view._render.thread.is_alive()
    finally:
        view.dispose()
