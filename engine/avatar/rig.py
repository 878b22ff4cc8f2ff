"""A plain-numpy FLAME forward pass: pose vector -> posed vertices.

This is the reference the generator and the tests use (the prepare stage has its own numba LBS
implementing the same maths). Pose layout is ``engine.motion.layout``.
"""

from __future__ import annotations

import numpy as np

from ..motion import layout
from .model import HeadModel


def rodrigues(aa: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) of axis-angle vectors (..., 3)."""
    aa = np.asarray(aa, dtype=np.float64)
    theta = np.linalg.norm(aa, axis=-1, keepdims=True)
    axis = aa / np.maximum(theta, 1e-12)
    x, y, z = axis[..., 0], axis[..., 1], axis[..., 2]
    zero = np.zeros_like(x)
    k = np.stack([zero, -z, y, z, zero, -x, -y, x, zero], axis=-1).reshape(aa.shape[:-1] + (3, 3))
    s = np.sin(theta)[..., None]
    c = np.cos(theta)[..., None]
    eye = np.eye(3)
    return eye + s * k + (1.0 - c) * (k @ k)


def joint_rotations(pose: np.ndarray) -> np.ndarray:
    """The 5 joint rotations (5,3,3) of a pose vector: root, neck, jaw, left eye, right eye."""
    aa = np.stack([pose[layout.ROTATION], pose[layout.NECK], pose[layout.JAW],
                   pose[layout.EYE_LEFT], pose[layout.EYE_RIGHT]])
    return rodrigues(aa)


def shaped_vertices(head: HeadModel, pose: np.ndarray) -> np.ndarray:
    """Template plus expression and eyelid blendshapes (float64, (V,3))."""
    expr = np.asarray(pose[layout.EXPRESSION_OFFSET:], dtype=np.float64)
    v = head.v_template.astype(np.float64)
    if expr.size:
        v = v + np.tensordot(expr, head.expr_dirs, axes=1)
    return v + np.tensordot(np.asarray(pose[layout.EYELIDS], np.float64), head.eyelid_dirs, axes=1)


def posed_vertices(head: HeadModel, pose: np.ndarray) -> np.ndarray:
    """Blendshapes, pose correctives and linear blend skinning: posed vertices (V,3) float64."""
    pose = np.asarray(pose, dtype=np.float64)
    if pose.shape != (layout.motion_dim(head.expression_count),):
        raise ValueError(f"pose must have {layout.motion_dim(head.expression_count)} entries, not {pose.shape}")
    v_shaped = shaped_vertices(head, pose)
    joints = head.j_regressor.astype(np.float64) @ v_shaped
    rots = joint_rotations(pose)
    feature = (rots[1:] - np.eye(3)).reshape(-1)
    v_posed = v_shaped + np.tensordot(feature, head.pose_dirs, axes=1)
    # Global rigid transforms along the chain, then remove the rest-pose joint positions.
    glob_r = np.empty((5, 3, 3))
    glob_t = np.empty((5, 3))
    for j, parent in enumerate(head.parents):
        if parent < 0:
            glob_r[j] = rots[j]
            glob_t[j] = joints[j]
        else:
            glob_r[j] = glob_r[parent] @ rots[j]
            glob_t[j] = glob_r[parent] @ (joints[j] - joints[parent]) + glob_t[parent]
    rel_t = glob_t - np.einsum("jab,jb->ja", glob_r, joints)
    w = head.weights.astype(np.float64)
    blend_r = np.einsum("vj,jab->vab", w, glob_r)
    blend_t = w @ rel_t
    return np.einsum("vab,vb->va", blend_r, v_posed) + blend_t + pose[layout.TRANSLATION]
