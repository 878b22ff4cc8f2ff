"""EWA projection (SplatProjector) against the numpy reference, and its culling rules."""

import numpy as np
import pytest

from engine import AvatarError
from engine.prepare import SplatProjector
from engine.prepare.reference import quat_to_matrix, project_reference, sort_reference

from .synthetic import front_camera

W = H = 128


def cloud(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(n, 4))
    return (rng.normal(0, 0.15, (n, 3)).astype(np.float32), (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32),
            np.exp(rng.uniform(-6, -3, (n, 3))).astype(np.float32), rng.uniform(0, 1, n).astype(np.float32),
            rng.uniform(0, 1, (n, 3)).astype(np.float32))


def test_matches_reference_including_culls():
    means, quats, scales, opac, colors = cloud()
    viewmat, K = front_camera(W, distance=0.3, focal=150.0)  # near enough that some splats are behind or outside
    frame = SplatProjector(5000)(means, quats, scales, opac, colors, viewmat, K, W, H)
    m2, con, radii, depths, vis = project_reference(means, quat_to_matrix(quats), scales, opac, viewmat, K, W, H)
    assert 0 < vis.sum() < len(vis) and (depths < 0).any()
    np.testing.assert_array_equal(frame.radii > 0, vis)
    np.testing.assert_array_equal(frame.radii, radii.astype(np.float32))
    np.testing.assert_allclose(frame.depths, depths, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(frame.means2d[vis], m2[vis], rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(frame.conics[vis], con[vis], rtol=2e-4, atol=1e-6 * np.abs(con[vis]).max())
    assert frame.count == vis.sum()
    np.testing.assert_array_equal(frame.order[:frame.count], sort_reference(depths, vis))
    np.testing.assert_array_equal(frame.colors, colors)


def test_tiny_splat_is_dilated_by_0_3_px_squared():
    viewmat, K = front_camera(W)
    one = np.zeros((1, 3), np.float32), np.array([[1, 0, 0, 0]], np.float32), np.full((1, 3), 1e-7, np.float32)
    frame = SplatProjector(1)(*one, np.ones(1, np.float32), np.ones((1, 3), np.float32), viewmat, K, W, H)
    np.testing.assert_allclose(frame.conics[0], [1 / 0.3, 0.0, 1 / 0.3], rtol=1e-4)
    np.testing.assert_allclose(frame.means2d[0], [W / 2, H / 2])
    assert frame.radii[0] == np.ceil(3 * np.sqrt(0.3)) and frame.count == 1


@pytest.mark.parametrize(("position", "opacity"), [((0, 0, 0.7), 1.0), ((2.0, 0, 0), 1.0), ((0, 0, 0), 0.5 / 255)])
def test_behind_outside_and_transparent_splats_are_culled(position, opacity):
    viewmat, K = front_camera(W, distance=0.6)
    frame = SplatProjector(1)(np.array([position], np.float32), np.array([[1, 0, 0, 0]], np.float32),
                              np.full((1, 3), 0.01, np.float32), np.array([opacity], np.float32),
                              np.ones((1, 3), np.float32), viewmat, K, W, H)
    assert frame.count == 0 and frame.radii[0] == 0


def test_culled_splats_leave_zero_conics_and_finite_means():
    """Behind the camera, on its plane or far outside, a splat's lanes may hold inf or NaN mid-computation:
    none of it reaches the frame (GPU backends upload every row, not just the visible ones)."""
    rng = np.random.default_rng(5)
    n = 3000  # three blocks of the vectorised kernel, the last one partial
    means = rng.normal(0, 1.0, (n, 3)).astype(np.float32)
    means[:50] = (0.0, 0.0, 0.6)  # exactly at the camera centre (z = 0)
    q = rng.normal(size=(n, 4))
    viewmat, K = front_camera(W, distance=0.6)
    frame = SplatProjector(n)(means, (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32),
                              rng.uniform(0.001, 0.05, (n, 3)).astype(np.float32), np.full(n, 0.8, np.float32),
                              np.zeros((n, 3), np.float32), viewmat, K, W, H)
    culled = frame.radii == 0
    assert 0 < frame.count < n and culled.sum() == n - frame.count and culled[:50].all()
    assert (frame.conics[culled] == 0).all() and np.isfinite(frame.conics).all()
    assert np.isfinite(frame.means2d).all() and np.isfinite(frame.radii).all()


def test_low_opacity_shrinks_the_radius():
    viewmat, K = front_camera(W)
    radii = []
    for opacity in (1.0, 0.05):
        frame = SplatProjector(1)(np.zeros((1, 3), np.float32), np.array([[1, 0, 0, 0]], np.float32),
                                  np.full((1, 3), 0.01, np.float32), np.array([opacity], np.float32),
                                  np.ones((1, 3), np.float32), viewmat, K, W, H)
        radii.append(frame.radii[0])
    assert radii[1] < radii[0]


def test_bad_arguments_are_avatar_errors():
    viewmat, K = front_camera(W)
    means, quats, scales, opac, colors = cloud(10)
    proj = SplatProjector(5)
    with pytest.raises(AvatarError, match="capacity"):
        proj(means, quats, scales, opac, colors, viewmat, K, W, H)
    with pytest.raises(AvatarError, match="quats"):
        SplatProjector(10)(means, quats[:, :3], scales, opac, colors, viewmat, K, W, H)
    with pytest.raises(AvatarError, match="non-zero size"):
        SplatProjector(10)(means, quats, scales, opac, colors, viewmat, K, 0, H)
    with pytest.raises(AvatarError, match="focal"):
        SplatProjector(10)(means, quats, scales, opac, colors, viewmat, np.zeros((3, 3)), W, H)


def test_near_and_far_planes_are_validated():
    with pytest.raises(AvatarError, match="near_plane"):
        SplatProjector(1, near_plane=0.0)
