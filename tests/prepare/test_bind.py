"""GaussianAvatars binding: numba vs numpy reference, agreement with the avatar package, rigidity."""

import numpy as np

from engine.avatar.binding_frames import triangle_frames as package_triangle_frames
from engine.avatar.model import GaussianSet
from engine.prepare.bind import bind_world, triangle_frames
from engine.prepare.reference import bind_reference, quat_to_matrix, triangle_frames_reference

from .synthetic import synthetic_gaussians, synthetic_head

HEAD = synthetic_head()


def frames_of(vertices, faces):
    f = len(faces)
    out = np.zeros((f, 3)), np.zeros((f, 3, 3)), np.zeros(f)
    triangle_frames(np.asarray(vertices, np.float32), np.asarray(faces, np.int32), *out)
    return out


def bind(vertices, faces, g):
    n = g.count
    t, r, k = frames_of(vertices, faces)
    out = np.zeros((n, 3), np.float32), np.zeros((n, 4), np.float32), np.zeros((n, 3), np.float32)
    bind_world(t, r, k, g.parent, g.local_xyz, g.local_rot, g.local_log_scale, *out)
    return out


def test_triangle_frames_match_reference_and_the_avatar_package():
    verts = HEAD.v_template * 1.3 + 0.01
    t, r, k = frames_of(verts, HEAD.faces)
    for expected in (triangle_frames_reference(verts, HEAD.faces), package_triangle_frames(verts.astype(np.float64), HEAD.faces)):
        np.testing.assert_allclose(t, expected[0], atol=1e-7)
        np.testing.assert_allclose(r, expected[1], atol=1e-6)
        np.testing.assert_allclose(k, expected[2], rtol=1e-6)
    np.testing.assert_allclose(r @ np.swapaxes(r, 1, 2), np.broadcast_to(np.eye(3), r.shape), atol=1e-6)
    np.testing.assert_allclose(np.linalg.det(r), 1.0, atol=1e-6)


def test_bind_world_matches_reference():
    g = synthetic_gaussians(HEAD, 400)
    means, quats, scales = bind(HEAD.v_template, HEAD.faces, g)
    ref_means, ref_rot, ref_scales = bind_reference(HEAD.v_template, HEAD.faces, g)
    np.testing.assert_allclose(means, ref_means, atol=1e-6)
    np.testing.assert_allclose(quat_to_matrix(quats), ref_rot, atol=1e-5)
    np.testing.assert_allclose(scales, ref_scales, rtol=1e-5)
    assert (quats[:, 0] >= 0).all()


def test_gaussians_move_rigidly_with_a_rotated_scaled_translated_triangle():
    tri = np.array([[0.0, 0.0, 0.0], [0.02, 0.0, 0.0], [0.005, 0.015, 0.0]], np.float32)
    faces = np.array([[0, 1, 2]], np.int32)
    rng = np.random.default_rng(4)
    q = rng.normal(size=(50, 4))
    g = GaussianSet(parent=np.zeros(50, np.int32), local_xyz=rng.normal(0, 0.5, (50, 3)).astype(np.float32),
                    local_rot=(q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32),
                    local_log_scale=rng.normal(-1, 0.3, (50, 3)).astype(np.float32),
                    opacity=np.ones(50, np.float32), color=np.ones((50, 3), np.float32))
    axis = np.array([0.3, -0.5, 0.8]) / np.linalg.norm([0.3, -0.5, 0.8])
    angle, s, shift = 1.1, 2.5, np.array([0.1, -0.2, 0.3])
    kx = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    rot = np.eye(3) + np.sin(angle) * kx + (1 - np.cos(angle)) * kx @ kx
    moved_tri = (s * tri.astype(np.float64) @ rot.T + shift).astype(np.float32)
    m0, q0, s0 = bind(tri, faces, g)
    m1, q1, s1 = bind(moved_tri, faces, g)
    np.testing.assert_allclose(m1, s * m0.astype(np.float64) @ rot.T + shift, atol=1e-6)
    np.testing.assert_allclose(quat_to_matrix(q1), rot @ quat_to_matrix(q0), atol=1e-5)
    np.testing.assert_allclose(s1, s * s0, rtol=1e-5)
    # distances between Gaussians scale uniformly: the cloud moved as one rigid (similarity) body
    d0 = np.linalg.norm(m0[:, None] - m0[None], axis=-1)
    d1 = np.linalg.norm(m1[:, None] - m1[None], axis=-1)
    np.testing.assert_allclose(d1, s * d0, atol=1e-6)
