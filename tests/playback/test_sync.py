"""The pose drawn at audio time t is the keyframe interpolated at t — output latency included."""

from __future__ import annotations

import numpy as np
import pytest

from engine.motion.interpolate import blend_pose
from engine.playback.controller import AvatarController
from engine.playback.simulated import SimulatedSink

from .conftest import RATE, Recorder, keyframes, payloads, tone


def expected_pose(kf: np.ndarray, t: float) -> np.ndarray:
    x = t * 25
    i = int(np.floor(x))
    out = np.zeros(kf.shape[1], np.float32)
    blend_pose(kf[i], kf[i + 1], x - i, out)
    return out


@pytest.mark.parametrize("latency", [0.0, 0.047])
async def test_pose_at_audio_time_is_the_interpolated_keyframe(backend, avatar, latency):
    sink = SimulatedSink(RATE, latency=latency)
    ctl = AvatarController(avatar, audio_sink=sink)
    try:
        kf = keyframes(100, seed=7)
        cid = ctl.yield_audio_data(tone(4.0), end=True)
        ctl.yield_frames_data(payloads(kf), cid)
        out = np.zeros(ctl._dim, np.float32)
        advanced = 0
        rng = np.random.default_rng(3)
        worst = 0.0
        while advanced < 3.5 * RATE:
            step = int(rng.integers(50, 700))  # irregular render ticks
            sink.advance(step)
            advanced += step
            ctl.frame_pose(out)
            heard = max(0.0, advanced / RATE - latency)  # what the listener hears now
            assert ctl.get_audio_time() == pytest.approx(heard, abs=1 / RATE)
            if heard < 0.3:
                continue  # the idle→speech blend runs for the first 0.2 s
            worst = max(worst, abs(ctl.get_audio_time() - heard))
            np.testing.assert_allclose(out, expected_pose(kf, heard), atol=2e-5)
        assert worst <= 1e-3
    finally:
        ctl.dispose()


async def test_frame_rate_info_reports_ticks_motion_and_offset(backend, avatar):
    ctl = AvatarController(avatar, audio_sink="virtual")
    rec = Recorder(ctl)
    infos = []
    ctl.on_frame_rate_info = infos.append
    ctl.frame_rate_monitor_enabled = True
    try:
        ctl.frame_starvation_mode = "strict_sync"
        cid = ctl.yield_audio_data(tone(3.0), end=True)
        ctl.yield_frames_data(payloads(keyframes(50)[:25], end=False), cid)
        out = np.zeros(ctl._dim, np.float32)
        for _ in range(102):  # 50 fps ticks; motion runs out at 1 s and audio stalls
            ctl.audio_sink.advance(RATE // 50)
            ctl.frame_pose(out)
        await rec.take()
        assert len(infos) == 2
        first, second = infos
        assert first.render_fps == pytest.approx(50.0) and first.window_s == pytest.approx(1.0)
        assert first.motion_fps == pytest.approx(25.0)  # 25 keyframes arrived in the first second
        assert first.repeated_frames <= 1 and first.dropped_frames == 0  # the stall begins at 1 s
        assert first.motion_to_audio_offset_ms == 0.0  # the pose is computed for the clock's own time
        assert second.repeated_frames == 50  # stalled: the clock stood still for the whole window
        assert second.motion_fps == 0.0
    finally:
        ctl.dispose()


async def test_frame_rate_windows_close_when_the_sink_opens_after_rendering_began(backend, avatar):
    """Ticks before the first audio run on the monotonic clock; the sink's clock takes over cleanly."""
    ctl = AvatarController(avatar)
    rec = Recorder(ctl)
    infos = []
    ctl.on_frame_rate_info = infos.append
    ctl.frame_rate_monitor_enabled = True
    try:
        ctl.set_audio_sink("virtual")
        out = np.zeros(ctl._dim, np.float32)
        for _ in range(5):  # the view renders idle frames before any audio: no sink yet
            ctl.frame_pose(out)
        cid = ctl.yield_audio_data(tone(2.0), end=True)
        ctl.yield_frames_data(payloads(keyframes(50)), cid)
        for _ in range(60):
            ctl.audio_sink.advance(RATE // 50)
            ctl.frame_pose(out)
        await rec.take()
        assert len(infos) == 1 and infos[0].window_s == pytest.approx(1.0, abs=0.03)
    finally:
        ctl.dispose()
