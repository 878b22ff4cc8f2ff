"""Numba LBS against the numpy reference (and the avatar package's own rig), and its locality."""

import numpy as np
import pytest

from engine.avatar.rig import posed_vertices
from engine.prepare.deform import Deformer
from engine.prepare.reference import deform_reference

from .synthetic import JAW_FEATURES, random_pose, synthetic_head

HEAD = synthetic_head(expr_count=6)


def test_matches_numpy_reference_within_1e_5_relative():
    deform, rng = Deformer(HEAD), np.random.default_rng(0)
    for scale in (0.0, 0.1, 0.5, 1.5):
        pose = random_pose(6, rng, scale)
        ours, ref = deform(pose), deform_reference(HEAD, pose)
        assert np.abs(ours - ref).max() <= 1e-5 * np.abs(ref).max()
        np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-7)


def test_matches_the_avatar_packages_rig():
    pose = random_pose(6, np.random.default_rng(1), 0.4)
    np.testing.assert_allclose(Deformer(HEAD)(pose), posed_vertices(HEAD, pose), rtol=1e-5, atol=1e-7)


def test_rest_pose_is_the_template_and_translation_is_global():
    deform = Deformer(HEAD)
    pose = np.zeros(26, np.float32)
    np.testing.assert_allclose(deform(pose), HEAD.v_template, atol=1e-7)
    pose[0:3] = (0.01, -0.02, 0.03)
    np.testing.assert_allclose(deform(pose), HEAD.v_template + pose[0:3], atol=1e-7)


def test_jaw_rotation_moves_only_jaw_weighted_vertices():
    deform = Deformer(HEAD)
    rest = deform(np.zeros(26, np.float32)).copy()
    pose = np.zeros(26, np.float32)
    pose[9] = 0.35  # open the jaw about x
    moved = np.linalg.norm(deform(pose) - rest, axis=1) > 1e-7
    jaw_weighted = (HEAD.weights[:, 2] > 0) | (np.abs(HEAD.pose_dirs[JAW_FEATURES]).sum(axis=(0, 2)) > 0)
    assert moved.any()
    assert not (moved & ~jaw_weighted).any()


def test_global_rotation_turns_the_whole_head_about_the_root_joint():
    deform = Deformer(HEAD)
    pose = np.zeros(26, np.float32)
    pose[4] = 0.5  # yaw
    root = HEAD.j_regressor[0] @ HEAD.v_template
    c, s = np.cos(0.5), np.sin(0.5)
    rot = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    expected = (HEAD.v_template - root) @ rot.T + root
    # pose correctives of the non-root joints stay zero, so the turn is exactly rigid
    np.testing.assert_allclose(deform(pose), expected, atol=1e-6)


def test_output_buffer_is_reused():
    deform = Deformer(HEAD)
    a = deform(np.zeros(26, np.float32))
    b = deform(random_pose(6, np.random.default_rng(2)))
    assert a is b


@pytest.mark.parametrize("expr_count", [0, 1])
def test_small_expression_counts(expr_count):
    head = synthetic_head(expr_count=expr_count)
    pose = random_pose(expr_count, np.random.default_rng(3))
    np.testing.assert_allclose(Deformer(head)(pose), deform_reference(head, pose), rtol=1e-5, atol=1e-7)


def test_demo_head_matches_reference_and_jaw_is_local():
    from engine.avatar import load_bundled

    head = load_bundled("demo").head
    deform, rng = Deformer(head), np.random.default_rng(5)
    pose = random_pose(head.expression_count, rng, 0.2)
    ref = deform_reference(head, pose)
    assert np.abs(deform(pose) - ref).max() <= 1e-5 * np.abs(ref).max()
    rest = deform(np.zeros(deform.dim, np.float32)).copy()
    jaw = np.zeros(deform.dim, np.float32)
    jaw[9] = 0.3
    moved = np.linalg.norm(deform(jaw) - rest, axis=1) > 1e-7
    jaw_weighted = (head.weights[:, 2] > 0) | (np.abs(head.pose_dirs[JAW_FEATURES]).sum(axis=(0, 2)) > 0)
    assert moved.any() and not (moved & ~jaw_weighted).any()
