"""Synthetic inputs in exactly GaussianAvatars' formats, with no FLAME file: a FLAME-format pickle (FLAME's
key names, dtypes and shapes, 5023 vertices, chumpy arrays, sparse J_regressor, latin1 protocol 2) and a
trained run (``point_cloud.ply`` of float32 properties in the trainer's order, ``flame_param.npz``)."""

from __future__ import annotations

import pickle
import sys
import types

import numpy as np
import scipy.sparse
import scipy.spatial

from engine.avatar.gaussian_avatars.ply import ply_bytes
from engine.avatar.gaussian_avatars.teeth import FLAME_VERTEX_COUNT, LIP_LOWER, LIP_UPPER, TEETH_VERTEX_COUNT

V = FLAME_VERTEX_COUNT
V_TEETH = V + TEETH_VERTEX_COUNT
RADIUS = 0.1
EXPRESSIONS = 100


def _sphere_point(x, y):
    return [x, y, np.sqrt(RADIUS ** 2 - x * x - y * y)]


def _smooth_dirs(rng, v, count, size):
    """Blendshapes as FLAME's are: smooth over the surface (random quadratics of position), not per-vertex noise."""
    p = v / RADIUS
    features = np.stack([np.ones(len(p)), *p.T, p[:, 0] * p[:, 1], p[:, 1] * p[:, 2], p[:, 0] * p[:, 2],
                         *(p.T ** 2)], axis=1)  # (V, 10)
    return np.einsum("vf,fck->vck", features, rng.normal(0, size / np.sqrt(count), (10, 3, count)))


def flame_arrays(seed: int = 0) -> dict:
    """FLAME 2023's arrays on a sphere-shaped head (face towards +z); lip rims where FLAME has them."""
    rng = np.random.default_rng(seed)
    i = np.arange(V) + 0.5
    phi, theta = np.arccos(1 - 2 * i / V), np.pi * (1 + 5 ** 0.5) * i
    v = RADIUS * np.stack([np.cos(theta) * np.sin(phi), np.cos(phi), np.sin(theta) * np.sin(phi)], axis=1)
    # lip rims: the sphere points nearest two mouth-shaped arcs, swapped into FLAME's lip indices (moving
    # points instead would leave sliver triangles, whose frames float32 vertices cannot pin down)
    xs = np.linspace(-0.03, 0.03, 15)
    taken: set[int] = set()
    for ring, y in ((LIP_UPPER, -0.03), (LIP_LOWER, -0.05)):
        for index, x in zip(ring, xs):
            order = np.argsort(np.linalg.norm(v - _sphere_point(x, y + 0.006 * (x / 0.03) ** 2), axis=1))
            nearest = next(int(k) for k in order if int(k) not in taken)
            taken.add(index)
            taken.add(nearest)
            v[[index, nearest]] = v[[nearest, index]]
    faces = scipy.spatial.ConvexHull(v).simplices.astype(np.uint32)
    centres = {"root": [0, -0.06, -0.02], "neck": [0, -0.05, -0.01], "jaw": [0, -0.04, 0.03],
               "eye_l": [0.03, 0.025, 0.08], "eye_r": [-0.03, 0.025, 0.08]}
    reg = np.zeros((5, V))
    weights = np.zeros((V, 5))
    for j, c in enumerate(centres.values()):
        d = np.linalg.norm(v - np.array(c), axis=1)
        near = np.argsort(d)[:20]
        reg[j, near] = 1.0 / 20
        weights[:, j] = np.exp(-(d / (0.02 if j >= 3 else 0.05)) ** 2)
    weights[:, 0] += 1e-3
    weights /= weights.sum(axis=1, keepdims=True)
    return {
        "v_template": v,
        "f": faces,
        "shapedirs": _smooth_dirs(rng, v, 300 + EXPRESSIONS, 4e-4),
        "posedirs": _smooth_dirs(rng, v, 36, 1e-3),
        "J_regressor": scipy.sparse.csc_matrix(reg),
        "weights": weights,
        "kintree_table": np.array([[4294967295, 0, 1, 1, 1], [0, 1, 2, 3, 4]], dtype=np.uint32),
        "bs_style": "lbs",
        "bs_type": "lrotmin",
    }


def write_flame_pickle(path, seed: int = 0) -> dict:
    """Pickle the arrays as FLAME's files are pickled (chumpy ``Ch`` wrappers), returning the plain arrays."""
    d = flame_arrays(seed)
    ch_mod = types.ModuleType("chumpy.ch")

    class Ch:
        def __init__(self, x):
            self.x = x
            self._dirty_vars = set()

    Ch.__module__, Ch.__qualname__ = "chumpy.ch", "Ch"
    ch_mod.Ch = Ch
    sys.modules["chumpy"], sys.modules["chumpy.ch"] = types.ModuleType("chumpy"), ch_mod
    try:
        pickled = dict(d, v_template=Ch(d["v_template"]), shapedirs=Ch(d["shapedirs"]))
        path.write_bytes(pickle.dumps(pickled, protocol=2))
    finally:
        del sys.modules["chumpy"], sys.modules["chumpy.ch"]
    return d


def ply_columns(n: int, face_count: int, seed: int = 1) -> dict[str, np.ndarray]:
    """A trained point cloud's attributes, in the order GaussianAvatars writes them."""
    rng = np.random.default_rng(seed)
    cols = {}
    xyz = rng.normal(0, 0.4, (n, 3))
    for k, name in enumerate("xyz"):
        cols[name] = xyz[:, k]
    for name in ("nx", "ny", "nz"):
        cols[name] = np.zeros(n)
    dc = rng.normal(0, 1.0, (n, 3))
    for k in range(3):
        cols[f"f_dc_{k}"] = dc[:, k]
    rest = rng.normal(0, 0.25, (n, 3, 15))  # (channel, coefficient), flattened channel-major
    for k in range(45):
        cols[f"f_rest_{k}"] = rest.reshape(n, 45)[:, k]
    cols["opacity"] = rng.normal(1.0, 1.5, n)
    scale = rng.normal(-1.2, 0.3, (n, 3))
    for k in range(3):
        cols[f"scale_{k}"] = scale[:, k]
    rot = rng.normal(0, 1, (n, 4)) * rng.uniform(0.5, 2.0, (n, 1))  # trainers store unnormalised quaternions
    for k in range(4):
        cols[f"rot_{k}"] = rot[:, k]
    cols["binding_0"] = np.concatenate([np.arange(face_count), rng.integers(0, face_count, n - face_count)]) \
        if n >= face_count else rng.integers(0, face_count, n)
    return cols


def flame_params(frames: int = 30, seed: int = 2) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, frames)[:, None]
    return {
        "shape": rng.normal(0, 0.8, 300).astype(np.float32),
        "expr": rng.normal(0, 0.6, (frames, EXPRESSIONS)).astype(np.float32),
        "rotation": (np.array([[0.05, 0.3, -0.04]]) * np.sin(6 * t)).astype(np.float32),
        "neck_pose": (np.array([[0.1, -0.05, 0.02]]) * np.cos(5 * t)).astype(np.float32),
        "jaw_pose": (np.array([[0.25, 0.0, 0.01]]) * (0.5 + 0.5 * np.sin(9 * t))).astype(np.float32),
        "eyes_pose": rng.normal(0, 0.05, (frames, 6)).astype(np.float32),
        "translation": (np.array([[0.004, -0.01, 0.02]]) * np.cos(3 * t)).astype(np.float32),
        "static_offset": rng.normal(0, 5e-5, (1, V_TEETH, 3)).astype(np.float32),
        "dynamic_offset": np.zeros((frames, V_TEETH, 3), np.float32),
    }


def write_run(run_dir, face_count: int, gaussians: int = 12000, frames: int = 30, columns=None, params=None):
    """``run_dir/point_cloud/iteration_30000/{point_cloud.ply, flame_param.npz}``, as training leaves them."""
    out = run_dir / "point_cloud" / "iteration_30000"
    out.mkdir(parents=True, exist_ok=True)
    cols = ply_columns(gaussians, face_count) if columns is None else columns
    (out / "point_cloud.ply").write_bytes(ply_bytes(cols))
    np.savez(out / "flame_param.npz", **(flame_params(frames) if params is None else params))
    return out
