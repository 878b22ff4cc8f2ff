"""Read a GaussianAvatars training output: ``point_cloud.ply`` (the Gaussians) and ``flame_param.npz``.

The PLY holds per Gaussian ``x y z nx ny nz f_dc_0..2 f_rest_0..44 opacity scale_0..2 rot_0..3 binding_0``:
position in its triangle's frame (units of the triangle's scale), SH coefficients (``f_rest`` channel-major:
``f_rest[c·15 + k]`` is coefficient k+1 of colour c), opacity as a logit, log-scale, rotation (w, x, y, z,
not normalised) and the parent triangle (stored as a float). ``flame_param.npz`` holds the tracked FLAME
sequence: ``shape`` (300), ``expr`` (T, E), ``rotation`` ``neck_pose`` ``jaw_pose`` ``translation`` (T, 3),
``eyes_pose`` (T, 6), ``static_offset`` (1, V, 3) and ``dynamic_offset`` (T, V, 3; checked, not applied).
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from pathlib import Path

import attrs
import numpy as np

from ...errors import AvatarError, ErrorCode
from ..model import GaussianSet
from .ply import read_ply_vertices
from .teeth import FLAME_VERTEX_COUNT

SH_DEGREE = 3  # what GaussianAvatars trains; runs trained with a lower max degree import too
SH_C0 = 0.28209479177387814
BASE_ATTRIBUTES = (("x", "y", "z") + tuple(f"f_dc_{i}" for i in range(3)) + ("opacity",)
                   + tuple(f"scale_{i}" for i in range(3)) + tuple(f"rot_{i}" for i in range(4)) + ("binding_0",))
POSE_KEYS = {"rotation": 3, "neck_pose": 3, "jaw_pose": 3, "eyes_pose": 6, "translation": 3}
MAX_FRAMES = 1 << 20


def run_file_error(what, message: str) -> AvatarError:
    """``invalidAvatarMetadata`` naming the run's file (and field) that is wrong."""
    return AvatarError(ErrorCode.invalidAvatarMetadata, f"{what}: {message}")


@attrs.frozen(eq=False)
class FlameParams:
    """A tracked FLAME sequence (float64): T frames, E expressions, V vertices."""

    shape: np.ndarray  # (S,)
    expr: np.ndarray  # (T, E)
    rotation: np.ndarray  # (T, 3) axis-angle
    neck_pose: np.ndarray
    jaw_pose: np.ndarray
    eyes_pose: np.ndarray  # (T, 6) left, right
    translation: np.ndarray  # (T, 3)
    static_offset: np.ndarray  # (V, 3)

    @property
    def frames(self) -> int:
        return int(self.expr.shape[0])


def find_point_cloud(run_dir: str | os.PathLike) -> Path:
    """``RUN_DIR/point_cloud.ply``, else the newest ``RUN_DIR/point_cloud/iteration_<n>/point_cloud.ply``."""
    root = Path(run_dir)
    if (root / "point_cloud.ply").is_file():
        return root / "point_cloud.ply"
    found = []
    for p in (root / "point_cloud").glob("iteration_*/point_cloud.ply"):
        m = re.fullmatch(r"iteration_(\d+)", p.parent.name)
        if m:
            found.append((int(m.group(1)), p))
    if not found:
        raise AvatarError(ErrorCode.avatarIDUnrecognized,
                          f"{str(root)!r} holds no point_cloud.ply (nor point_cloud/iteration_<n>/point_cloud.ply); "
                          "pass the output directory of a GaussianAvatars training run")
    return max(found)[1]


def _finite(what: str, name: str, arr: np.ndarray) -> np.ndarray:
    finite = np.isfinite(arr)
    if not finite.all():
        first = np.argwhere(~finite)[0]
        at = f" (first at row {int(first[0])})" if arr.ndim else ""
        raise run_file_error(what, f"{name} holds NaN or infinite values{at}")
    return arr


def check_binding(gaussians: GaussianSet, face_count: int, what: str) -> None:
    if gaussians.parent.max() >= face_count:
        raise run_file_error(what, f"binding_0 values must lie in 0..{face_count - 1} (the FLAME-with-teeth triangles); "
                         f"found {int(gaussians.parent.min())}..{int(gaussians.parent.max())} — the run was "
                         "trained on another mesh")


def _sh_rest(degree: int) -> int:
    """Coefficients per colour channel beyond DC."""
    return (degree + 1) ** 2 - 1


def read_gaussians(path: str | os.PathLike, face_count: int | None = None) -> GaussianSet:
    """The Gaussians of a trained ``point_cloud.ply`` as a :class:`GaussianSet` (SH degree 3 for a
    GaussianAvatars run; the degree follows the number of ``f_rest_*`` attributes: 0, 9, 24 or 45).

    ``face_count`` checks ``binding_0`` against the mesh (``check_binding`` does it later otherwise).
    """
    what = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise run_file_error(what, f"cannot read ({exc.strerror or exc})") from None
    cols = read_ply_vertices(data, what)
    present = sum(1 for name in cols if name.startswith("f_rest_"))
    degree = next((d for d in range(SH_DEGREE + 1) if 3 * _sh_rest(d) >= present), SH_DEGREE)
    rest_names = [f"f_rest_{i}" for i in range(3 * _sh_rest(degree))]
    missing = [a for a in BASE_ATTRIBUTES + tuple(rest_names) if a not in cols]
    if present > 3 * _sh_rest(SH_DEGREE):
        raise run_file_error(what, f"{present} f_rest attributes: more than SH degree {SH_DEGREE} has")
    if missing:
        raise run_file_error(what, f"missing attribute{'s' if len(missing) > 1 else ''} {', '.join(missing[:6])}"
                         f"{' …' if len(missing) > 6 else ''}; a GaussianAvatars point cloud has x y z, f_dc_0..2, "
                         f"f_rest_0..{3 * _sh_rest(SH_DEGREE) - 1} (SH degree {SH_DEGREE}), opacity, scale_0..2, "
                         "rot_0..3, binding_0")

    def stack(names):
        return _finite(what, "/".join(names) if len(names) <= 4 else f"{names[0]}..{names[-1]}",
                       np.stack([cols[n].astype(np.float64) for n in names], axis=1))

    xyz = stack(["x", "y", "z"])
    dc = stack([f"f_dc_{i}" for i in range(3)])
    rest = stack(rest_names).reshape(-1, 3, _sh_rest(degree)) if degree else None
    opacity_logit = _finite(what, "opacity", cols["opacity"].astype(np.float64))
    log_scale = stack([f"scale_{i}" for i in range(3)])
    rot = stack([f"rot_{i}" for i in range(4)])
    binding = _finite(what, "binding_0", cols["binding_0"].astype(np.float64))
    if (binding != np.round(binding)).any():
        raise run_file_error(what, "binding_0 must hold whole triangle indices")
    if binding.min() < 0 or binding.max() >= 2 ** 31:
        raise run_file_error(what, f"binding_0 values must be triangle indices ≥ 0; "
                         f"found {binding.min():.0f}..{binding.max():.0f}")
    norms = np.linalg.norm(rot, axis=1)
    if (norms < 1e-12).any():
        raise run_file_error(what, f"rot_0..3 of Gaussian {int(np.flatnonzero(norms < 1e-12)[0])} is a zero quaternion")
    sh = None
    if degree:
        sh = np.empty((len(xyz), _sh_rest(degree) + 1, 3))
        sh[:, 0] = dc
        sh[:, 1:] = np.swapaxes(rest, 1, 2)
    with np.errstate(over="ignore"):
        opacity = 1.0 / (1.0 + np.exp(-opacity_logit))
    gaussians = GaussianSet(
        parent=binding.astype(np.int32),
        local_xyz=np.ascontiguousarray(xyz, np.float32),
        local_rot=np.ascontiguousarray(rot / norms[:, None], np.float32),
        local_log_scale=np.ascontiguousarray(log_scale, np.float32),
        opacity=np.ascontiguousarray(opacity, np.float32),
        color=np.ascontiguousarray(np.clip(SH_C0 * dc + 0.5, 0.0, 1.0), np.float32),
        sh=None if sh is None else np.ascontiguousarray(sh, np.float32),
    )
    if face_count is not None:
        check_binding(gaussians, face_count, what)
    return gaussians


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    what = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise run_file_error(what, f"cannot read ({exc.strerror or exc})") from None
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise run_file_error(what, f"not a readable .npz without pickles ({exc})") from None


def read_flame_params(path: str | os.PathLike, vertex_count: int) -> FlameParams:
    """A tracked sequence from ``flame_param.npz``; offsets for FLAME's 5023 vertices are padded for the teeth."""
    path = Path(path)
    what = str(path)
    raw = _load_npz(path)
    need = ["shape", "expr", *POSE_KEYS, "static_offset"]
    missing = [k for k in need if k not in raw]
    if missing:
        raise run_file_error(what, f"missing {', '.join(missing)}; flame_param.npz has shape, expr, rotation, neck_pose, "
                         "jaw_pose, eyes_pose, translation, static_offset (and dynamic_offset)")
    arrays = {}
    for key, arr in raw.items():
        if key in need or key == "dynamic_offset":
            if arr.dtype.kind not in "fiu":
                raise run_file_error(what, f"{key} must be numeric, not {arr.dtype}")
            # dynamic offsets (T×V×3, large) are only checked: GaussianAvatars' FLAME forward pass ignores them
            arrays[key] = _finite(what, key, arr if key == "dynamic_offset" else np.asarray(arr, np.float64))
    shape = arrays["shape"].reshape(-1)
    if not 0 < shape.size <= 300:
        raise run_file_error(what, f"shape must hold 1..300 coefficients, not {shape.size}")
    expr = arrays["expr"]
    if expr.ndim != 2 or not 1 <= expr.shape[0] <= MAX_FRAMES or not 1 <= expr.shape[1] <= 100:
        raise run_file_error(what, f"expr must have shape (T, E) with 1 ≤ E ≤ 100, not {expr.shape}")
    t = expr.shape[0]
    for key, width in POSE_KEYS.items():
        if arrays[key].shape != (t, width):
            raise run_file_error(what, f"{key} must have shape ({t}, {width}) (T frames like expr), not {arrays[key].shape}")
    static = _offset(what, "static_offset", arrays["static_offset"], 1, vertex_count)[0]
    if "dynamic_offset" in arrays:
        _check_offset_shape(what, "dynamic_offset", arrays["dynamic_offset"], t, vertex_count)
    return FlameParams(shape=shape, expr=expr, rotation=arrays["rotation"], neck_pose=arrays["neck_pose"],
                       jaw_pose=arrays["jaw_pose"], eyes_pose=arrays["eyes_pose"],
                       translation=arrays["translation"], static_offset=static)


def _offset(what: str, key: str, arr: np.ndarray, frames: int, vertex_count: int) -> np.ndarray:
    """(frames, V, 3), accepting (V, 3) for one frame and FLAME-only offsets (zero for the teeth)."""
    if arr.ndim == 2 and frames == 1:
        arr = arr[None]
    _check_offset_shape(what, key, arr, frames, vertex_count)
    if arr.shape[1] != vertex_count:
        arr = np.concatenate([arr, np.zeros((frames, vertex_count - arr.shape[1], 3))], axis=1)
    return arr


def _check_offset_shape(what: str, key: str, arr: np.ndarray, frames: int, vertex_count: int) -> None:
    if arr.ndim != 3 or arr.shape[0] != frames or arr.shape[2] != 3 or arr.shape[1] not in (vertex_count,
                                                                                            FLAME_VERTEX_COUNT):
        raise run_file_error(what, f"{key} must have shape ({frames}, {vertex_count}, 3), not {arr.shape}")
