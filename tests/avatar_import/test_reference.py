"""An imported avatar's posed Gaussians equal an independent numpy version of GaussianAvatars' equations.

The reference poses FLAME (with the teeth the importer adds) by plain linear blend skinning, axis-angles and
quaternions through scipy's ``Rotation``, then binds: face centre, orientation (a0 first edge, a1 normal,
a2 = −normalise(a1 × a0)), scale = mean of first-edge length and height; world = k·R·μ + T,
scale = k·exp(s), rotation = q_face ⊗ q_local.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from engine.avatar.gaussian_avatars import motion_of_run, posed_gaussians
from engine.avatar.gaussian_avatars.teeth import FLAME_VERTEX_COUNT, LIP_LOWER, LIP_UPPER

from .synthetic import flame_params, ply_columns

PARENTS = (-1, 0, 1, 1, 1)


def flame_forward(rig, p, t):
    s, e = p["shape"].astype(np.float64), p["expr"][t].astype(np.float64)
    sd = rig["shapedirs"]
    v = rig["v_template"] + sd[:, :, :s.size] @ s + sd[:, :, 300:300 + e.size] @ e + p["static_offset"][0]
    joints = rig["J_regressor"] @ v
    aa = np.concatenate([p["rotation"][t], p["neck_pose"][t], p["jaw_pose"][t], p["eyes_pose"][t]]).reshape(5, 3)
    rots = Rotation.from_rotvec(aa.astype(np.float64)).as_matrix()
    v = v + rig["posedirs"] @ (rots[1:] - np.eye(3)).reshape(-1)
    world = []
    for j, parent in enumerate(PARENTS):
        local = np.eye(4)
        local[:3, :3] = rots[j]
        local[:3, 3] = joints[j] - (joints[parent] if parent >= 0 else 0)
        world.append(local if parent < 0 else world[parent] @ local)
    skin = np.stack(world)
    skin[:, :3, 3] -= np.einsum("jab,jb->ja", skin[:, :3, :3], joints)
    per_vertex = np.einsum("vj,jab->vab", rig["weights"], skin)
    return np.einsum("vab,vb->va", per_vertex[:, :3, :3], v) + per_vertex[:, :3, 3] + p["translation"][t]


def gaussian_avatars_bind(verts, faces, cols):
    v0, v1, v2 = (verts[faces[:, i]] for i in range(3))
    a0 = (v1 - v0) / np.linalg.norm(v1 - v0, axis=1, keepdims=True)
    a1 = np.cross(a0, v2 - v0)
    a1 /= np.linalg.norm(a1, axis=1, keepdims=True)
    a2 = -np.cross(a1, a0)
    a2 /= np.linalg.norm(a2, axis=1, keepdims=True)
    orient = np.stack([a0, a1, a2], axis=-1)
    k = 0.5 * (np.linalg.norm(v1 - v0, axis=1) + np.abs(np.sum(a2 * (v2 - v0), axis=1)))
    b = cols["binding_0"].astype(np.int64)
    xyz = np.stack([cols[c] for c in "xyz"], 1).astype(np.float64)
    means = np.einsum("nab,nb->na", orient[b], xyz) * k[b, None] + (v0 + v1 + v2)[b] / 3
    scales = np.exp(np.stack([cols[f"scale_{i}"] for i in range(3)], 1).astype(np.float64)) * k[b, None]
    wxyz = np.stack([cols[f"rot_{i}"] for i in range(4)], 1).astype(np.float64)
    local = Rotation.from_quat(wxyz[:, [1, 2, 3, 0]])  # scipy normalises, as GaussianAvatars does
    quats = (Rotation.from_matrix(orient[b]) * local).as_quat()[:, [3, 0, 1, 2]]
    return means, quats, scales


def test_teeth_follow_gaussian_avatars_rules(flame_pkl, ga_rig):
    rig = ga_rig
    v = rig["v_template"]
    assert v.shape == (5143, 3) and rig["f"].shape[0] == len(flame_pkl[1]["f"]) + 168
    up, lo = v[list(LIP_UPPER)], v[list(LIP_LOWER)]
    d = np.linalg.norm(up - lo, axis=1).mean()
    teeth = v[FLAME_VERTEX_COUNT:].reshape(8, 15, 3)
    mid = (up + lo) / 2
    np.testing.assert_allclose(teeth[2, :, 0], mid[:, 0])  # upper edge under the lip midpoints
    np.testing.assert_allclose(teeth[2, :, 1], mid[:, 1].mean() + 0.1 * d)
    np.testing.assert_allclose(teeth[2, :, 2], mid[:, 2] - 1.5 * d)
    np.testing.assert_allclose(teeth[0] - teeth[2], np.tile([0, 2 * d, 0], (15, 1)), atol=1e-12)
    np.testing.assert_allclose(teeth[3] - teeth[2], np.tile([0, -0.2 * d, -0.4 * d], (15, 1)), atol=1e-12)
    np.testing.assert_allclose(teeth[7] - teeth[3], np.tile([0, 0, -d], (15, 1)), atol=1e-12)
    w = rig["weights"][FLAME_VERTEX_COUNT:].reshape(8, 15, 5)
    assert (w[[0, 2, 4, 5], :, 1] == 1).all() and (w[[1, 3, 6, 7], :, 2] == 1).all()
    assert not rig["J_regressor"][:, FLAME_VERTEX_COUNT:].any() and not rig["posedirs"][FLAME_VERTEX_COUNT:].any()
    teeth_faces = rig["f"][len(flame_pkl[1]["f"]):]
    assert teeth_faces.min() == FLAME_VERTEX_COUNT and teeth_faces.max() == 5142
    upper = set(range(FLAME_VERTEX_COUNT, FLAME_VERTEX_COUNT + 15)) | set(range(5053, 5068)) | set(range(5083, 5113))
    assert all(set(f) <= upper for f in teeth_faces[:84]) and not any(set(f) & upper for f in teeth_faces[84:])


@pytest.mark.parametrize("frame", [0, 7, 19, 29])
def test_posed_gaussians_match_gaussian_avatars_equations(imported, run_dir, ga_rig, face_count, frame):
    avatar, _ = imported
    rig = ga_rig
    params, cols = flame_params(30), ply_columns(12000, face_count)
    ref_means, ref_quats, ref_scales = gaussian_avatars_bind(flame_forward(rig, params, frame), rig["f"], cols)

    pose = motion_of_run(next(run_dir.glob("point_cloud/iteration_*/flame_param.npz")))[frame]
    # What is drawn: the deformer accumulates blendshapes in float32 (vertex error ≤ 1e-7 m), which on 5 mm
    # triangles turns the frame by up to ~1.5e-5; positions and scales meet 1e-5 regardless.
    # precise=True (float64 posing): everything to 1e-5.
    for precise, rotation_tolerance in ((False, 3e-5), (True, 1e-5)):
        means, quats, scales = posed_gaussians(avatar, pose, precise=precise)
        np.testing.assert_allclose(means, ref_means, atol=1e-5)
        np.testing.assert_allclose(scales, ref_scales, atol=1e-5)
        quats = quats * np.sign(np.sum(quats * ref_quats, axis=1))[:, None]  # q and −q are one rotation
        np.testing.assert_allclose(quats, ref_quats, atol=rotation_tolerance)
