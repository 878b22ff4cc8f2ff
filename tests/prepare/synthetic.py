"""Small synthetic FLAME-compatible heads and Gaussian sets for prepare-stage tests (fast, deterministic)."""

import numpy as np

from engine.avatar.model import GaussianSet, HeadModel

JAW_FEATURES = slice(9, 18)  # pose-corrective rows of joint 2 (jaw): (2 - 1) * 9 ...


def synthetic_head(rows=10, cols=14, expr_count=4, seed=0) -> HeadModel:
    """A sphere of radius 0.1 m: lower front is the jaw, two front patches are the eyes."""
    rng = np.random.default_rng(seed)
    theta = np.linspace(0.25, np.pi - 0.25, rows)
    phi = np.linspace(0, 2 * np.pi, cols, endpoint=False)
    t, p = np.meshgrid(theta, phi, indexing="ij")
    v = 0.1 * np.stack([np.sin(t) * np.sin(p), np.cos(t), np.sin(t) * np.cos(p)], -1).reshape(-1, 3)
    faces = []
    for r in range(rows - 1):
        for c in range(cols):
            a, b = r * cols + c, r * cols + (c + 1) % cols
            faces += [(a, a + cols, b), (b, a + cols, b + cols)]
    vcount = len(v)
    jaw = (v[:, 1] < -0.02) & (v[:, 2] > 0.02)
    eye_l = (v[:, 1] > 0.0) & (v[:, 1] < 0.06) & (v[:, 0] > 0.02) & (v[:, 2] > 0.05)
    eye_r = (v[:, 1] > 0.0) & (v[:, 1] < 0.06) & (v[:, 0] < -0.02) & (v[:, 2] > 0.05)
    weights = np.zeros((vcount, 5))
    weights[:, 0], weights[:, 1] = 0.4, 0.6
    weights[jaw] = (0.0, 0.3, 0.7, 0.0, 0.0)
    weights[eye_l] = (0.0, 0.0, 0.0, 1.0, 0.0)
    weights[eye_r] = (0.0, 0.0, 0.0, 0.0, 1.0)
    reg = np.zeros((5, vcount))
    for j, mask in enumerate([np.ones(vcount, bool), v[:, 1] < -0.05, jaw, eye_l, eye_r]):
        reg[j, mask] = 1.0 / mask.sum()
    pose_dirs = rng.normal(0, 2e-3, (36, vcount, 3))
    pose_dirs[JAW_FEATURES][:, ~jaw] = 0.0  # jaw correctives act on the jaw only, as in FLAME
    return HeadModel(
        v_template=v.astype(np.float32), faces=np.asarray(faces, np.int32),
        expr_dirs=rng.normal(0, 5e-3, (expr_count, vcount, 3)).astype(np.float32),
        eyelid_dirs=rng.normal(0, 3e-3, (2, vcount, 3)).astype(np.float32),
        pose_dirs=pose_dirs.astype(np.float32), j_regressor=reg.astype(np.float32), weights=weights.astype(np.float32))


def synthetic_gaussians(head: HeadModel, count=500, seed=1) -> GaussianSet:
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(count, 4))
    return GaussianSet(
        parent=rng.integers(0, len(head.faces), count).astype(np.int32),
        local_xyz=rng.normal(0, 0.3, (count, 3)).astype(np.float32),
        local_rot=(q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32),
        local_log_scale=np.log(rng.uniform(0.05, 0.4, (count, 3))).astype(np.float32),
        opacity=rng.uniform(0.02, 1.0, count).astype(np.float32),
        color=rng.uniform(0, 1, (count, 3)).astype(np.float32))


def random_pose(expr_count, rng, scale=0.3):
    pose = rng.normal(0, scale, 20 + expr_count).astype(np.float32)
    pose[0:3] *= 0.05  # metres
    return pose


def front_camera(size=256, distance=0.6, focal=400.0):
    """OpenCV camera at (0, 0, distance) looking at the origin (world +y up → camera +y down)."""
    viewmat = np.array([[1, 0, 0, 0], [0, -1, 0, 0], [0, 0, -1, distance], [0, 0, 0, 1]], np.float32)
    K = np.array([[focal, 0, size / 2], [0, focal, size / 2], [0, 0, 1]], np.float32)
    return viewmat, K
