"""Turn decoded arrays into validated :class:`HeadModel` / :class:`GaussianSet` / idle keyframes.

Every check raises ``AvatarError(invalidAvatarMetadata)`` naming the file, the array and what was
expected, so a package author can fix it. Downstream numba kernels trust what passes here.
"""

from __future__ import annotations

import numpy as np

from ..errors import AvatarError, ErrorCode
from ..motion import layout
from .model import JOINT_PARENTS, POSE_CORRECTIVES, GaussianSet, HeadModel

HEAD_KEYS = ("v_template", "faces", "expr_dirs", "eyelid_dirs", "pose_dirs", "j_regressor", "weights", "parents")
GAUSSIAN_KEYS = ("parent", "local_xyz", "local_rot", "local_log_scale", "opacity", "color")
SUM_TOLERANCE = 1e-3


def head_shapes(vertices: int, faces: int, expressions: int) -> dict[str, tuple[int, ...]]:
    """The shape of every ``head.npz`` array, as the manifest's counts imply (checked before reading)."""
    v = vertices
    return {"v_template": (v, 3), "faces": (faces, 3), "expr_dirs": (expressions, v, 3), "eyelid_dirs": (2, v, 3),
            "pose_dirs": (POSE_CORRECTIVES, v, 3), "j_regressor": (5, v), "weights": (v, 5), "parents": (5,)}


def gaussian_shapes(count: int) -> dict[str, tuple[int, ...]]:
    """The shape of every array of a (full or compressed) Gaussian set of ``count`` Gaussians."""
    return {"parent": (count,), "local_xyz": (count, 3), "local_rot": (count, 4), "local_log_scale": (count, 3),
            "opacity": (count,), "color": (count, 3)}


def idle_shapes(frames: int, expressions: int) -> dict[str, tuple[int, ...]]:
    return {"keyframes": (frames, layout.motion_dim(expressions))}


def bad(what: str, message: str) -> AvatarError:
    return AvatarError(ErrorCode.invalidAvatarMetadata, f"{what}: {message}")


def check_keys(arrays: dict, expected: tuple[str, ...], what: str) -> None:
    missing = [k for k in expected if k not in arrays]
    extra = sorted(set(arrays) - set(expected))
    if missing or extra:
        raise bad(what, f"arrays must be exactly {', '.join(expected)}"
                        + (f"; missing {', '.join(missing)}" if missing else "")
                        + (f"; unexpected {', '.join(extra)}" if extra else ""))


def as_float(arrays: dict, key: str, shape: tuple, what: str) -> np.ndarray:
    """``arrays[key]`` as C-contiguous float32 of ``shape``, all finite."""
    arr = arrays[key]
    if arr.dtype.kind != "f":
        raise bad(what, f"{key} must be a floating-point array, not {arr.dtype}")
    if arr.shape != shape:
        raise bad(what, f"{key} must have shape {shape}, not {arr.shape}")
    out = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(out).all():
        raise bad(what, f"{key} holds NaN or infinite values")
    return out


def as_index(arrays: dict, key: str, shape: tuple, upper: int, what: str) -> np.ndarray:
    """``arrays[key]`` as int32 of ``shape`` with every value in ``[0, upper)``."""
    arr = arrays[key]
    if arr.dtype.kind not in "iu":
        raise bad(what, f"{key} must be an integer array, not {arr.dtype}")
    if arr.shape != shape:
        raise bad(what, f"{key} must have shape {shape}, not {arr.shape}")
    if arr.size and (arr.min() < 0 or arr.max() >= upper):
        raise bad(what, f"{key} values must lie in 0..{upper - 1}; found {arr.min()}..{arr.max()}")
    return np.ascontiguousarray(arr, dtype=np.int32)


def head_from_arrays(arrays: dict, vertices: int, faces: int, expressions: int, what: str = "head.npz") -> HeadModel:
    check_keys(arrays, HEAD_KEYS, what)
    v, f, e = vertices, faces, expressions
    v_template = as_float(arrays, "v_template", (v, 3), what)
    tri = as_index(arrays, "faces", (f, 3), v, what)
    cross = np.cross(v_template[tri[:, 1]] - v_template[tri[:, 0]], v_template[tri[:, 2]] - v_template[tri[:, 0]])
    degenerate = np.flatnonzero(np.linalg.norm(cross, axis=1) <= 1e-12)
    if degenerate.size:
        raise bad(what, f"{degenerate.size} degenerate (zero-area) triangles, first index {degenerate[0]}; "
                        "Gaussians cannot be bound to them — remove or fix them")
    parents = arrays["parents"]
    if parents.shape != (5,) or parents.dtype.kind not in "iu" or not np.array_equal(parents, JOINT_PARENTS):
        raise bad(what, f"parents must be [-1, 0, 1, 1, 1] (root, neck, jaw, left eye, right eye), not {parents!r}")
    weights = as_float(arrays, "weights", (v, 5), what)
    if weights.min() < -1e-6 or np.abs(weights.sum(axis=1) - 1.0).max() > SUM_TOLERANCE:
        raise bad(what, "weights must be non-negative with every row summing to 1")
    reg = as_float(arrays, "j_regressor", (5, v), what)
    if np.abs(reg.sum(axis=1) - 1.0).max() > SUM_TOLERANCE:
        raise bad(what, f"every j_regressor row must sum to 1 (joints are weighted vertex averages); "
                        f"row sums are {np.round(reg.sum(axis=1), 4).tolist()}")
    return HeadModel(
        v_template=v_template,
        faces=tri,
        expr_dirs=as_float(arrays, "expr_dirs", (e, v, 3), what),
        eyelid_dirs=as_float(arrays, "eyelid_dirs", (2, v, 3), what),
        pose_dirs=as_float(arrays, "pose_dirs", (POSE_CORRECTIVES, v, 3), what),
        j_regressor=reg,
        weights=weights,
        parents=JOINT_PARENTS.copy(),
    )


def check_gaussians(gs: GaussianSet, count: int, faces: int, what: str) -> GaussianSet:
    """Range checks shared by the full and the compressed Gaussian sets."""
    if gs.parent.shape != (count,):
        raise bad(what, f"parent must have shape ({count},), not {gs.parent.shape}")
    if gs.parent.min() < 0 or gs.parent.max() >= faces:
        raise bad(what, f"parent triangle indices must lie in 0..{faces - 1}")
    norms = np.linalg.norm(gs.local_rot, axis=1)
    if np.abs(norms - 1.0).max() > 1e-2:
        raise bad(what, "local_rot must hold unit quaternions (w, x, y, z)")
    if gs.local_log_scale.min() < -20 or gs.local_log_scale.max() > 10:
        raise bad(what, "local_log_scale must lie in -20..10 (log of the scale in units of the triangle's k)")
    if np.abs(gs.local_xyz).max() > 1e3:
        raise bad(what, "local_xyz must lie within 1000 triangle scales of the parent triangle")
    if gs.opacity.min() < 0 or gs.opacity.max() > 1:
        raise bad(what, "opacity must lie in [0, 1]")
    if gs.color.min() < 0 or gs.color.max() > 1:
        raise bad(what, "color must be RGB in [0, 1]")
    return gs


def gaussians_from_arrays(arrays: dict, count: int, faces: int, what: str = "gaussians.npz") -> GaussianSet:
    check_keys(arrays, GAUSSIAN_KEYS, what)
    n = count
    rot = as_float(arrays, "local_rot", (n, 4), what)
    gs = GaussianSet(
        parent=as_index(arrays, "parent", (n,), faces, what),
        local_xyz=as_float(arrays, "local_xyz", (n, 3), what),
        local_rot=rot,
        local_log_scale=as_float(arrays, "local_log_scale", (n, 3), what),
        opacity=as_float(arrays, "opacity", (n,), what),
        color=as_float(arrays, "color", (n, 3), what),
    )
    check_gaussians(gs, n, faces, what)
    norms = np.linalg.norm(rot, axis=1, keepdims=True)
    if np.abs(norms - 1.0).max() > 1e-6:  # kernels assume unit length; leave exact data bit-identical
        rot /= norms
    return gs


def idle_from_arrays(arrays: dict, frames: int, expressions: int, what: str = "idle.npz") -> np.ndarray:
    check_keys(arrays, ("keyframes",), what)
    keyframes = as_float(arrays, "keyframes", (frames, layout.motion_dim(expressions)), what)
    if np.abs(keyframes).max(initial=0.0) > layout.MOTION_LIMIT:
        raise bad(what, f"keyframes must stay within ±{layout.MOTION_LIMIT:g} (radians, metres, blendshape weights)")
    return keyframes
