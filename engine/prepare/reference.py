"""Plain-numpy (float64) reference of the prepare stage: deform, bind, project, sort.

Written straight from the equations for clarity, not speed. Tests compare the numba kernels with it;
the ``motion`` benchmark uses it as the baseline.
"""

from __future__ import annotations

import numpy as np

from ..avatar.model import GaussianSet, HeadModel
from ..motion import layout

NEAR_PLANE = 0.01
FAR_PLANE = 1e10
EPS2D = 0.3  # px², added to the 2D covariance diagonal (gsplat's "classic" dilation)
ALPHA_MIN = 1.0 / 255.0


def axis_angle_to_matrix(aa: np.ndarray) -> np.ndarray:
    aa = np.asarray(aa, np.float64)
    theta = np.linalg.norm(aa, axis=-1, keepdims=True)
    k = aa / np.maximum(theta, 1e-12)
    x, y, z = k[..., 0], k[..., 1], k[..., 2]
    zero = np.zeros_like(x)
    kx = np.stack([zero, -z, y, z, zero, -x, -y, x, zero], -1).reshape(aa.shape[:-1] + (3, 3))
    s, c = np.sin(theta)[..., None], np.cos(theta)[..., None]
    return np.eye(3) + s * kx + (1 - c) * kx @ kx


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    q = np.asarray(q, np.float64)
    w, x, y, z = np.moveaxis(q / np.linalg.norm(q, axis=-1, keepdims=True), -1, 0)
    m = np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
                  2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
                  2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1)
    return m.reshape(q.shape[:-1] + (3, 3))


def deform_reference(head: HeadModel, pose: np.ndarray) -> np.ndarray:
    """Posed vertices (V, 3) float64 of ``pose`` (engine motion layout)."""
    pose = np.asarray(pose, np.float64)
    v = head.v_template.astype(np.float64)
    v = v + np.tensordot(pose[layout.EXPRESSION_OFFSET:], head.expr_dirs.astype(np.float64), 1)
    v = v + np.tensordot(pose[layout.EYELIDS], head.eyelid_dirs.astype(np.float64), 1)
    joints = head.j_regressor.astype(np.float64) @ v
    rots = axis_angle_to_matrix(pose[3:18].reshape(5, 3))  # root (global rotation), neck, jaw, eyes
    v = v + np.tensordot((rots[1:] - np.eye(3)).reshape(-1), head.pose_dirs.astype(np.float64), 1)
    glob = np.zeros((5, 4, 4))
    for j, p in enumerate(head.parents):
        local = np.eye(4)
        local[:3, :3] = rots[j]
        local[:3, 3] = joints[j] - (joints[p] if p >= 0 else 0.0)
        glob[j] = local if p < 0 else glob[p] @ local
    rel = glob.copy()
    rel[:, :3, 3] -= np.einsum("jab,jb->ja", glob[:, :3, :3], joints)
    per_vertex = np.einsum("vj,jab->vab", head.weights.astype(np.float64), rel)
    return np.einsum("vab,vb->va", per_vertex[:, :3, :3], v) + per_vertex[:, :3, 3] + pose[layout.TRANSLATION]


def triangle_frames_reference(vertices: np.ndarray, faces: np.ndarray):
    """Per-triangle centroid T (F,3), frame R (F,3,3: columns edge, normal, edge×normal), scale k (F,)."""
    v0, v1, v2 = (np.asarray(vertices, np.float64)[faces[:, i]] for i in range(3))
    edge = v1 - v0
    edge_len = np.linalg.norm(edge, axis=1)
    a0 = edge / edge_len[:, None]
    cross = np.cross(a0, v2 - v0)
    height = np.linalg.norm(cross, axis=1)
    a1 = cross / height[:, None]
    return (v0 + v1 + v2) / 3, np.stack([a0, a1, np.cross(a0, a1)], axis=2), 0.5 * (edge_len + height)


def bind_reference(vertices: np.ndarray, faces: np.ndarray, g: GaussianSet):
    """World means (N,3), rotation matrices (N,3,3) and scales (N,3) of the bound Gaussians."""
    t, r, k = triangle_frames_reference(vertices, faces)
    p = g.parent
    means = k[p, None] * np.einsum("nab,nb->na", r[p], g.local_xyz.astype(np.float64)) + t[p]
    rotations = r[p] @ quat_to_matrix(g.local_rot)
    return means, rotations, k[p, None] * np.exp(g.local_log_scale.astype(np.float64))


def project_reference(means, rotations, scales, opacities, viewmat, K, width, height):
    """gsplat-style EWA projection: (means2d, conics, radii, depths, visible) for world-space Gaussians."""
    w, t = np.asarray(viewmat, np.float64)[:3, :3], np.asarray(viewmat, np.float64)[:3, 3]
    m = rotations * np.asarray(scales, np.float64)[:, None, :]
    cov = w @ (m @ np.swapaxes(m, 1, 2)) @ w.T
    x, y, z = (np.asarray(means, np.float64) @ w.T + t).T
    fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    zs = np.where(z > 0, z, 1.0)
    # gsplat clamps the Jacobian's point to 1.3× the field of view, so splats far outside stay sane
    tan_x, tan_y = 0.5 * width / fx, 0.5 * height / fy
    tx = zs * np.clip(x / zs, -(cx / fx + 0.3 * tan_x), (width - cx) / fx + 0.3 * tan_x)
    ty = zs * np.clip(y / zs, -(cy / fy + 0.3 * tan_y), (height - cy) / fy + 0.3 * tan_y)
    jac = np.zeros((len(z), 2, 3))
    jac[:, 0, 0], jac[:, 0, 2] = fx / zs, -fx * tx / zs**2
    jac[:, 1, 1], jac[:, 1, 2] = fy / zs, -fy * ty / zs**2
    cov2 = jac @ cov @ np.swapaxes(jac, 1, 2)
    a, b, c = cov2[:, 0, 0] + EPS2D, cov2[:, 0, 1], cov2[:, 1, 1] + EPS2D
    det = a * c - b * b
    dets = np.where(det > 0, det, 1.0)
    conics = np.stack([c / dets, -b / dets, a / dets], 1)
    op = np.asarray(opacities, np.float64)
    extend = np.minimum(3.0, np.sqrt(2.0 * np.log(np.maximum(op, ALPHA_MIN) / ALPHA_MIN)))
    mid = 0.5 * (a + c)
    radii = np.ceil(extend * np.sqrt(mid + np.sqrt(np.maximum(0.01, mid * mid - det))))
    means2d = np.stack([fx * x / zs + cx, fy * y / zs + cy], 1)
    visible = ((z > NEAR_PLANE) & (z < FAR_PLANE) & (det > 0) & (op >= ALPHA_MIN) & (radii > 0)
               & (means2d[:, 0] + radii > 0) & (means2d[:, 0] - radii < width)
               & (means2d[:, 1] + radii > 0) & (means2d[:, 1] - radii < height))
    return means2d, conics, np.where(visible, radii, 0.0), z, visible


def sort_reference(depths: np.ndarray, visible: np.ndarray) -> np.ndarray:
    """Indices of the visible splats, nearest first (stable for equal depths)."""
    idx = np.flatnonzero(visible)
    return idx[np.argsort(np.asarray(depths)[idx].astype(np.float32), kind="stable")]


def prepare_reference(head: HeadModel, g: GaussianSet, pose, viewmat, K, width, height):
    """The whole stage: (order of visible splats, means2d, conics, radii, depths)."""
    means, rotations, scales = bind_reference(deform_reference(head, pose), head.faces, g)
    means2d, conics, radii, depths, visible = project_reference(means, rotations, scales, g.opacity, viewmat, K,
                                                                width, height)
    return sort_reference(depths, visible), means2d, conics, radii, depths
