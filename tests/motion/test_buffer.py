"""MotionBuffer: ordered frames per round, drops counted, gaps bridged, bounded, starvation reported."""

import numpy as np
import pytest

from engine import AvatarError
from engine.motion.buffer import MotionBuffer
from engine.motion.interpolate import blend_pose

D = 22


def frames(start, count, scale=1.0):
    """Keyframes whose every channel equals the frame index × ``scale`` (so lerps are easy to read).

    Pose values must stay within ±10, so tests that run past frame 10 pass a smaller scale.
    """
    kf = np.repeat(np.arange(start, start + count, dtype=np.float32)[:, None] * np.float32(scale), D, axis=1)
    kf[:, 3:18] = 0.0  # rotations at rest: linear channels carry the index
    return kf


def test_needs_two_frames_then_interpolates_between_keyframes():
    buf, out = MotionBuffer(D), np.empty(D, np.float32)
    buf.begin_round("r1")
    assert buf.push("r1", 0, frames(0, 1)) == 1
    assert not buf.ready()
    assert buf.push("r1", 1, frames(1, 3)) == 3
    assert buf.ready() and buf.frames_available == 4 and buf.last_frame_time == pytest.approx(3 / 25)
    assert buf.pose_at(1.5 / 25, out)
    assert out[0] == pytest.approx(1.5) and out[-1] == pytest.approx(1.5)


def test_rotations_are_slerped_like_blend_pose():
    buf, out = MotionBuffer(D), np.empty(D, np.float32)
    buf.begin_round("r")
    kf = np.random.default_rng(0).uniform(-1, 1, (2, D)).astype(np.float32)
    buf.push("r", 0, kf)
    expected = np.empty(D, np.float32)
    blend_pose(kf[0], kf[1], 0.4, expected)
    buf.pose_at(0.4 / 25, out)
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_duplicates_late_and_stale_frames_are_dropped_and_counted():
    buf, out = MotionBuffer(D), np.empty(D, np.float32)
    buf.begin_round("r")
    buf.push("r", 0, frames(0, 4, 0.1))
    assert buf.push("r", 2, frames(2, 4, 0.1)) == 2  # 2, 3 held already; 4, 5 new
    assert buf.stats.duplicates == 2
    buf.pose_at(9 / 25, out)  # playback ran ahead of the motion: frames before 9 are in the past
    assert buf.push("r", 6, frames(6, 5, 0.1)) == 2
    assert buf.stats.late == 3
    assert buf.push("other", 11, frames(11, 3, 0.1)) == 0
    assert buf.stats.stale == 3
    assert buf.pose_at(9.5 / 25, out) and out[0] == pytest.approx(0.95)


def test_gap_is_detected_and_bridged_smoothly():
    buf, out = MotionBuffer(D), np.empty(D, np.float32)
    buf.begin_round("r")
    buf.push("r", 0, frames(0, 3))
    buf.push("r", 6, frames(6, 2))  # 3, 4, 5 never arrived
    assert (buf.stats.gaps, buf.stats.missing) == (1, 3)
    values = []
    for i in range(2, 7):
        assert buf.pose_at(i / 25, out)
        values.append(out[0])
    np.testing.assert_allclose(values, [2, 3, 4, 5, 6], atol=1e-5)  # bridged linearly from 2 to 6


def test_starvation_holds_the_last_frame_and_says_so():
    buf, out = MotionBuffer(D), np.full(D, -1.0, np.float32)
    buf.begin_round("r")
    assert not buf.pose_at(0.0, out) and out[0] == -1.0  # nothing at all yet
    buf.push("r", 0, frames(0, 3))
    assert not buf.pose_at(2.5 / 25, out)
    assert out[0] == 2.0
    assert not buf.pose_at(float("inf"), out) and out[0] == 2.0


def test_end_of_round():
    buf, out = MotionBuffer(D), np.empty(D, np.float32)
    buf.begin_round("r")
    buf.push("r", 0, frames(0, 3), end=True)
    assert buf.ended and buf.ready(5)  # an ended round plays even if shorter than the fill
    assert buf.pose_at(2.5 / 25, out) and out[0] == 2.0  # the last keyframe covers [2/25, 3/25)
    assert not buf.pose_at(3.01 / 25, out)
    buf.begin_round("r2")
    assert not buf.ended and buf.frames_available == 0


def test_end_flag_on_a_duplicate_message_still_ends_the_round():
    buf = MotionBuffer(D)
    buf.begin_round("r")
    buf.push("r", 0, frames(0, 3))
    assert buf.push("r", 2, frames(2, 1), end=True) == 0
    assert buf.ended


def test_bounded_size_refuses_unplayed_overflow_and_evicts_played_frames():
    buf, out = MotionBuffer(D, capacity_frames=10), np.empty(D, np.float32)
    buf.begin_round("r")
    assert buf.push("r", 0, frames(0, 30, 0.1)) == 10
    assert buf.stats.overflow == 20
    assert buf.pose_at(6.0 / 25, out) and out[0] == pytest.approx(0.6)
    assert buf.push("r", 10, frames(10, 20, 0.1)) == 6  # frames 0..5 are played: room for 10..15
    assert buf.pose_at(15.0 / 25, out) is False  # 15 is the last held frame, 16 not yet there
    assert buf.pose_at(14.5 / 25, out) and out[0] == pytest.approx(1.45)


def test_clear_on_interrupt_drops_the_round():
    buf, out = MotionBuffer(D), np.empty(D, np.float32)
    buf.begin_round("r")
    buf.push("r", 0, frames(0, 5))
    buf.clear()
    assert buf.round_id is None and buf.frames_available == 0 and not buf.pose_at(0.0, out)
    assert buf.push("r", 5, frames(5, 2)) == 0 and buf.stats.stale == 2


def test_first_message_missing_holds_the_first_frame_received():
    buf, out = MotionBuffer(D), np.empty(D, np.float32)
    buf.begin_round("r")
    buf.push("r", 4, frames(4, 3))
    assert buf.stats.gaps == 1 and buf.pose_at(0.0, out) and out[0] == 4.0


def test_bad_arguments():
    buf = MotionBuffer(D)
    buf.begin_round("r")
    with pytest.raises(AvatarError, match="shape"):
        buf.push("r", 0, np.zeros((2, D + 1), np.float32))
    with pytest.raises(AvatarError, match="NaN"):
        buf.push("r", 0, np.full((1, D), np.nan, np.float32))
    with pytest.raises(AvatarError, match="start_frame"):
        buf.push("r", -1, frames(0, 1))
    with pytest.raises(AvatarError):
        MotionBuffer(10)


def test_concurrent_producer_and_reader_keep_consistent_counts():
    import threading

    buf = MotionBuffer(D, capacity_frames=50)
    buf.begin_round("r")
    pushed = []

    def produce():
        for start in range(0, 2000, 5):
            pushed.append(buf.push("r", start, frames(start, 5, 0.001)))

    thread = threading.Thread(target=produce)
    thread.start()
    out, t = np.empty(D, np.float32), 0.0
    while thread.is_alive():
        if buf.pose_at(t, out):
            assert np.isfinite(out).all()
        t += 0.2 / 25
    thread.join()
    stats = buf.stats
    assert sum(pushed) == stats.accepted
    assert stats.accepted + stats.overflow + stats.late + stats.duplicates == 2000
