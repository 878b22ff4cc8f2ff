"""The generated demo head: deterministic, FLAME-compatible, and its rig does what it claims."""

from __future__ import annotations

import numpy as np
import pytest

from engine.avatar.binding_frames import bind_to_world, triangle_frames
from engine.avatar.demo import mesh as M
from engine.avatar.demo.build import make_demo_avatar
from engine.avatar.demo.expressions import NAMED_EXPRESSIONS
from engine.avatar.manifest import parse_manifest
from engine.avatar.package import BUNDLED_DIR, package_files
from engine.avatar.rig import posed_vertices
from engine.motion import layout


@pytest.fixture(scope="module")
def generated():
    return make_demo_avatar()


@pytest.fixture(scope="module")
def demo_mesh():
    return M.build_mesh()


def _pose(avatar, **values):
    p = np.zeros(layout.motion_dim(avatar.expression_count), np.float64)
    for name, v in values.items():
        if name.startswith("expr"):
            p[layout.EXPRESSION_OFFSET + int(name[4:])] = v
        else:
            p[getattr(layout, name.upper())] = v
    return p


def test_regenerating_gives_the_bundled_content(generated):
    bundled = parse_manifest((BUNDLED_DIR / "demo" / "manifest.json").read_bytes())
    fresh = parse_manifest(package_files(generated)["manifest.json"])
    assert fresh.content_hash == bundled.content_hash
    assert {n: e.arrays_sha256 for n, e in fresh.assets.items()} == \
        {n: e.arrays_sha256 for n, e in bundled.assets.items()}


def test_flame_compatible_structure(generated):
    head = generated.head
    assert head.parents.tolist() == [-1, 0, 1, 1, 1]
    assert head.pose_dirs.shape == (36, head.vertex_count, 3)
    assert head.eyelid_dirs.shape == (2, head.vertex_count, 3)
    assert len(NAMED_EXPRESSIONS) <= head.expression_count <= layout.MAX_EXPRESSIONS
    np.testing.assert_allclose(head.weights.sum(1), 1, atol=1e-5)
    np.testing.assert_allclose(head.j_regressor.sum(1), 1, atol=1e-5)
    assert 25000 <= generated.gaussians.count <= 35000
    assert generated.idle.shape == (100, layout.motion_dim(head.expression_count))


def test_binding_frames_are_rotations_and_gaussians_sit_on_the_surface(generated):
    head = generated.head
    v = head.v_template.astype(np.float64)
    _, rot, k = triangle_frames(v, head.faces)
    np.testing.assert_allclose(rot @ rot.transpose(0, 2, 1), np.broadcast_to(np.eye(3), rot.shape), atol=1e-9)
    np.testing.assert_allclose(np.linalg.det(rot), 1.0, atol=1e-9)
    assert (k > 0).all()
    g = generated.gaussians
    means, _, scales = bind_to_world(v, head.faces, g.parent, g.local_xyz.astype(np.float64),
                                     g.local_rot.astype(np.float64), g.local_log_scale.astype(np.float64))
    # Every splat lies within 1 cm of the head's bounding box and is at most a few millimetres big.
    assert (means.min(0) > v.min(0) - 0.01).all() and (means.max(0) < v.max(0) + 0.01).all()
    assert scales.max() < 0.02
    # Splats are flat: the normal axis (local y) is the smallest.
    assert (scales[:, 1] <= scales[:, 0]).mean() > 0.99


def test_jaw_opens_the_mouth(generated, demo_mesh):
    head = generated.head
    lower = np.flatnonzero(demo_mesh.lower_lip)
    rest = posed_vertices(head, _pose(generated))
    opened = posed_vertices(head, _pose(generated, jaw=np.array([0.25, 0, 0])))
    # The lower-lip copies of the mouth line drop by more than a centimetre, the upper lip stays.
    assert (rest[lower, 1] - opened[lower, 1]).max() > 0.01
    upper = np.flatnonzero((np.abs(head.v_template[:, 1] - M.MOUTH_Y) < 1e-6) & ~demo_mesh.lower_lip
                           & (np.abs(head.v_template[:, 0]) < 0.015) & (head.v_template[:, 2] > 0.05))
    assert np.abs(opened[upper] - rest[upper]).max() < 1e-3
    # Teeth of the lower row move with the jaw, those of the upper row do not.
    low_teeth = demo_mesh.vertex_part == M.TEETH_LOWER
    up_teeth = demo_mesh.vertex_part == M.TEETH_UPPER
    assert (rest[low_teeth, 1] - opened[low_teeth, 1]).min() > 0.003
    assert np.abs(opened[up_teeth] - rest[up_teeth]).max() < 1e-9


def test_eyelids_close_and_eyes_rotate(generated, demo_mesh):
    head = generated.head
    rest = posed_vertices(head, _pose(generated))
    closed = posed_vertices(head, _pose(generated, eyelids=np.array([1.0, 0.0])))
    c = demo_mesh.eye_centers[0]
    rim = demo_mesh.eye_rho[0]
    top_rim = np.flatnonzero((np.abs(rim - 1.0) < 0.3) & (head.v_template[:, 1] > c[1] + 0.005)
                             & (np.abs(head.v_template[:, 0] - c[0]) < 0.006)  # the middle of the lid
                             & (demo_mesh.vertex_part == M.SKIN) & (head.v_template[:, 2] > c[2]))
    assert len(top_rim) > 3
    assert (closed[top_rim, 1] < c[1]).all()  # the middle of the upper lid passes below the eye's centre
    right_rim = demo_mesh.eye_rho[1] < 1.3
    assert np.abs(closed[right_rim] - rest[right_rim]).max() == 0  # only the left eye closed
    looked = posed_vertices(head, _pose(generated, eye_left=np.array([0, 0.3, 0])))
    eye = demo_mesh.vertex_part == M.EYE_LEFT
    moved = np.linalg.norm(looked[eye] - rest[eye], axis=1)
    assert moved.max() > 0.003
    # Eye rotation is about the eyeball's centre: its distance to the centre is unchanged.
    np.testing.assert_allclose(np.linalg.norm(looked[eye] - c, axis=1), np.linalg.norm(rest[eye] - c, axis=1),
                               atol=1e-6)


@pytest.mark.parametrize("index, region, axis, sign", [
    (NAMED_EXPRESSIONS.index("smile"), "corner", 1, +1),
    (NAMED_EXPRESSIONS.index("brows_up"), "brow", 1, +1),
    (NAMED_EXPRESSIONS.index("lip_pucker"), "lips", 2, +1),
    (NAMED_EXPRESSIONS.index("mouth_open"), "lower_lip", 1, -1),
])
def test_named_expressions_move_their_region(generated, demo_mesh, index, region, axis, sign):
    head = generated.head
    x, y, z = head.v_template.T
    masks = {
        "corner": (np.abs(np.abs(x) - 0.026) < 0.004) & (np.abs(y - M.MOUTH_Y) < 0.004) & (z > 0.05),
        "brow": (np.abs(np.abs(x) - 0.03) < 0.01) & (np.abs(y - 0.034) < 0.005) & (z > 0.05),
        "lips": (np.abs(x) < 0.01) & (np.abs(y - M.MOUTH_Y) < 0.005) & (z > 0.05),
        "lower_lip": demo_mesh.lower_lip,
    }
    d = head.expr_dirs[index][masks[region]]
    assert sign * d[:, axis].mean() > 0.001
    far = head.v_template[:, 1] < -0.16  # the neck does not move
    assert np.abs(head.expr_dirs[index][far]).max() == 0


def test_idle_loop_is_continuous(generated):
    idle = generated.idle.astype(np.float64)
    steps = np.abs(np.diff(idle, axis=0)).max(axis=0)
    seam = np.abs(idle[0] - idle[-1])
    assert (seam <= steps + 1e-6).all()
    blink = idle[:, layout.EYELIDS]
    assert blink.max() > 0.9 and blink[0].max() < 0.01 and blink[-1].max() < 0.01
    assert np.abs(idle[:, layout.NECK]).max() > 0.005
