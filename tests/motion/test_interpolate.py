"""Pose interpolation: lerp for linear channels, geodesic (slerp) interpolation for every axis-angle joint."""

import numpy as np
import pytest

from engine.motion.interpolate import blend_pose
from engine.motion.layout import EXPRESSION_OFFSET, ROTATION_TRIPLES


def rotmat(aa):
    aa = np.asarray(aa, np.float64)
    theta = np.linalg.norm(aa)
    if theta < 1e-12:
        return np.eye(3)
    x, y, z = aa / theta
    k = np.array([[0, -z, y], [z, 0, -x], [-y, x, 0]])
    return np.eye(3) + np.sin(theta) * k + (1 - np.cos(theta)) * k @ k


def angle_between(ra, rb):
    return np.arccos(np.clip((np.trace(ra.T @ rb) - 1) / 2, -1, 1))


def test_endpoints_and_linear_channels():
    rng = np.random.default_rng(0)
    a, b = rng.uniform(-1, 1, (2, EXPRESSION_OFFSET + 10)).astype(np.float32)
    out = np.empty_like(a)
    blend_pose(a, b, 0.0, out)
    np.testing.assert_allclose(out, a, atol=1e-6)
    blend_pose(a, b, 1.0, out)
    np.testing.assert_allclose(out, b, atol=1e-6)
    blend_pose(a, b, 0.25, out)
    lin = np.r_[0:3, 18:len(a)]
    np.testing.assert_allclose(out[lin], 0.75 * a[lin] + 0.25 * b[lin], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("w", [0.1, 0.5, 0.9])
def test_rotations_follow_the_geodesic(w):
    rng = np.random.default_rng(int(w * 10))
    for _ in range(20):
        a, b = rng.uniform(-2, 2, (2, EXPRESSION_OFFSET)).astype(np.float32)
        out = np.empty_like(a)
        blend_pose(a, b, w, out)
        for j in ROTATION_TRIPLES:
            ra, rb, rm = rotmat(a[j:j + 3]), rotmat(b[j:j + 3]), rotmat(out[j:j + 3])
            total = angle_between(ra, rb)
            assert angle_between(ra, rm) == pytest.approx(w * total, abs=2e-5)
            assert angle_between(rm, rb) == pytest.approx((1 - w) * total, abs=2e-5)


def test_short_way_round_and_small_angles():
    a = np.zeros(EXPRESSION_OFFSET, np.float32)
    b = np.zeros(EXPRESSION_OFFSET, np.float32)
    a[9:12], b[9:12] = (0, 0, 3.0), (0, 0, -3.0)  # 0.28 rad apart through π, not 6 rad through 0
    out = np.empty_like(a)
    blend_pose(a, b, 0.5, out)
    assert abs(abs(out[11]) - np.pi) < 1e-5
    a[9:12], b[9:12] = (1e-8, 0, 0), (3e-8, 0, 0)
    blend_pose(a, b, 0.5, out)
    assert out[9] == pytest.approx(2e-8, rel=1e-5)


def test_output_may_alias_an_input():
    rng = np.random.default_rng(3)
    a, b = rng.uniform(-1, 1, (2, 25)).astype(np.float32)
    expected = np.empty_like(a)
    blend_pose(a, b, 0.3, expected)
    blend_pose(a, b, 0.3, a)
    np.testing.assert_array_equal(a, expected)
