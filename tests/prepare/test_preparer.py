"""AvatarPreparer: the fused per-frame path equals reference deform → bind → project → sort."""

import numpy as np
import pytest

from engine import AvatarError
from engine.prepare import AvatarPreparer, SplatProjector
from engine.prepare.reference import prepare_reference

from .synthetic import front_camera, random_pose, synthetic_gaussians, synthetic_head

HEAD = synthetic_head(expr_count=5)
GAUSSIANS = synthetic_gaussians(HEAD, 2000)
VIEW, K = front_camera(200, distance=0.35, focal=300.0)


def test_matches_reference_pipeline():
    prep, rng = AvatarPreparer(HEAD, GAUSSIANS), np.random.default_rng(0)
    for _ in range(3):
        pose = random_pose(5, rng, 0.3)
        frame = prep(pose, VIEW, K, 200, 200)
        order, m2, con, radii, depths = prepare_reference(HEAD, GAUSSIANS, pose, VIEW, K, 200, 200)
        src = prep.splat_index  # frame row i is Gaussian src[i]
        assert 0 < frame.count == len(order)
        np.testing.assert_array_equal(src[frame.order[:frame.count]], order)
        vis = frame.order[:frame.count]
        np.testing.assert_allclose(frame.means2d[vis], m2[src[vis]], atol=2e-3)
        np.testing.assert_allclose(frame.conics[vis], con[src[vis]], rtol=1e-3, atol=1e-6 * np.abs(con).max())
        assert np.mean(frame.radii == radii[src]) > 0.995  # ceil() may flip on float32 rounding at an integer
        np.testing.assert_allclose(frame.depths, depths[src], atol=1e-6)
        np.testing.assert_array_equal(frame.opacities, GAUSSIANS.opacity[src])


def test_fused_path_equals_bind_then_project():
    prep = AvatarPreparer(HEAD, GAUSSIANS)
    frame = prep(random_pose(5, np.random.default_rng(1)), VIEW, K, 200, 200)
    fused = {name: getattr(frame, name).copy() for name in ("means2d", "conics", "radii", "depths")}
    means, quats, scales = prep.bound_gaussians()
    src = prep.splat_index
    ref = SplatProjector(GAUSSIANS.count)(means, quats, scales, GAUSSIANS.opacity[src], GAUSSIANS.color[src], VIEW, K,
                                          200, 200)
    vis = ref.radii > 0
    np.testing.assert_array_equal(fused["radii"] > 0, vis)
    np.testing.assert_allclose(fused["means2d"][vis], ref.means2d[vis], atol=1e-3)
    np.testing.assert_allclose(fused["conics"][vis], ref.conics[vis], rtol=1e-3, atol=1e-6 * np.abs(ref.conics).max())


def test_frame_arrays_are_owned_and_reused():
    prep = AvatarPreparer(HEAD, GAUSSIANS)
    a = prep(np.zeros(25, np.float32), VIEW, K, 200, 200)
    b = prep(random_pose(5, np.random.default_rng(2)), VIEW, K, 200, 200)
    for name in ("order", "means2d", "conics", "radii", "depths", "opacities", "colors"):
        assert getattr(a, name) is getattr(b, name)
    assert a.means2d.dtype == np.float32 and a.order.dtype == np.int32 and a.means2d.shape == (2000, 2)


def test_thread_count_is_a_choice_that_does_not_change_the_frame():
    import numba

    pose = random_pose(5, np.random.default_rng(4))
    two = AvatarPreparer(HEAD, GAUSSIANS)(pose, VIEW, K, 200, 200)
    expected = two.conics.copy(), two.order[:two.count].copy()
    before = numba.get_num_threads()
    one = AvatarPreparer(HEAD, GAUSSIANS, threads=1)(pose, VIEW, K, 200, 200)
    assert numba.get_num_threads() == before
    np.testing.assert_array_equal(one.conics, expected[0])
    np.testing.assert_array_equal(one.order[:one.count], expected[1])
    with pytest.raises(AvatarError, match="threads"):
        AvatarPreparer(HEAD, GAUSSIANS, threads=0)


def test_splat_budget_keeps_the_most_visible():
    prep = AvatarPreparer(HEAD, GAUSSIANS, max_splats=500)
    frame = prep(np.zeros(25, np.float32), VIEW, K, 200, 200)
    assert prep.splat_count == 500 and frame.opacities.shape == (500,)
    assert frame.opacities.mean() > GAUSSIANS.opacity.mean()


def test_bad_pose_and_mismatched_gaussians_are_avatar_errors():
    prep = AvatarPreparer(HEAD, GAUSSIANS)
    with pytest.raises(AvatarError, match="25 finite floats"):
        prep(np.zeros(24, np.float32), VIEW, K, 200, 200)
    with pytest.raises(AvatarError, match="25 finite floats"):
        prep(np.full(25, np.nan, np.float32), VIEW, K, 200, 200)
    other = synthetic_gaussians(synthetic_head(rows=20), 100)
    with pytest.raises(AvatarError, match="another head"):
        AvatarPreparer(HEAD, other)


def test_demo_avatar_frame_agrees_with_reference():
    from engine.avatar import load_bundled
    from engine.render.camera import intrinsics, look_at_viewmat

    avatar = load_bundled("demo")
    view, k = look_at_viewmat(avatar.camera), intrinsics(avatar.camera, 256, 256)
    pose = avatar.idle[0].copy()
    pose[9] = 0.25  # jaw open
    prep = AvatarPreparer(avatar.head, avatar.gaussians)
    frame = prep(pose, view, k, 256, 256)
    order, m2, _, _, depths = prepare_reference(avatar.head, avatar.gaussians, pose, view, k, 256, 256)
    src, vis = prep.splat_index, frame.order[:frame.count]
    assert frame.count > 0.5 * avatar.gaussians.count
    # near-equal depths may swap between float32 and float64 maths: compare sets and monotonic depths
    assert abs(frame.count - len(order)) <= 2
    assert np.mean(np.isin(src[vis], order)) > 0.999
    assert (np.diff(frame.depths[vis]) >= 0).all()
    np.testing.assert_allclose(frame.means2d[vis], m2[src[vis]], atol=5e-3)
    np.testing.assert_allclose(frame.depths[vis], depths[src[vis]], atol=1e-5)
