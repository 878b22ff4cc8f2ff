"""Load a user-supplied FLAME model (``generic_model.pkl``, ``flame2023.pkl`` or a converted ``.npz``).

FLAME (MPI licence) cannot ship with Facecast; users point the engine at their own copy. Keys read:
``v_template (V,3)``, ``f (F,3)``, ``shapedirs (V,3,S+X)`` (first ``FLAME_SHAPE_COUNT`` = 300 shape,
then X expression components), ``posedirs (V,3,36)``, ``J_regressor (5,V)`` (sparse in pickles),
``weights (V,5)``, ``kintree_table (2,5)``. Optional ``eyelid_dirs (2,V,3)`` or ``l_eyelid``/``r_eyelid``
``(V,3)`` (as in GaussianAvatars' FLAME variant); FLAME itself has no eyelid blendshapes, so without
them the eyelid directions are zero and blinks leave the mesh unchanged.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import AvatarError, ErrorCode
from ..motion import layout
from .model import JOINT_PARENTS
from .npzio import npz_bytes, read_npz
from .safe_pickle import load_flame_pickle
from .validate import head_from_arrays

FLAME_SHAPE_COUNT = 300
FLAME_KEYS = ("v_template", "f", "shapedirs", "posedirs", "J_regressor", "weights", "kintree_table")
_EYELID_KEYS = ("eyelid_dirs", "l_eyelid", "r_eyelid")


def _flame_error(what: str, message: str) -> AvatarError:
    return AvatarError(ErrorCode.invalidAvatarMetadata, f"{what}: {message}")


def read_flame_file(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The FLAME arrays of a ``.pkl`` or ``.npz`` file, checked for consistent shapes (float64/int64)."""
    p = Path(path)
    what = str(p)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise AvatarError(ErrorCode.avatarIDUnrecognized,
                          f"cannot read FLAME model {what!r} ({exc.strerror or exc}); download it from "
                          "flame.is.tue.mpg.de and pass its path") from None
    raw = read_npz(data, what) if data[:4] == b"PK\x03\x04" else load_flame_pickle(data, what)
    return check_flame_arrays(raw, what)


def check_flame_arrays(raw: dict[str, np.ndarray], what: str) -> dict[str, np.ndarray]:
    missing = [k for k in FLAME_KEYS if k not in raw]
    if missing:
        raise _flame_error(what, f"missing FLAME arrays {', '.join(missing)}; a FLAME model has {', '.join(FLAME_KEYS)}")
    arrays = {}
    for key in FLAME_KEYS + _EYELID_KEYS:
        if key not in raw:
            continue
        arr = np.asarray(raw[key])
        if arr.dtype.kind not in "fiu":
            raise _flame_error(what, f"{key} must be numeric, not {arr.dtype}")
        if arr.dtype.kind == "f" and not np.isfinite(arr).all():
            raise _flame_error(what, f"{key} holds NaN or infinite values")
        arrays[key] = arr
    v = arrays["v_template"]
    if v.ndim != 2 or v.shape[1] != 3 or v.shape[0] < 3:
        raise _flame_error(what, f"v_template must have shape (V, 3), not {v.shape}")
    n = v.shape[0]
    expect = {"posedirs": (n, 3, 36), "J_regressor": (5, n), "weights": (n, 5), "kintree_table": (2, 5)}
    for key, shape in expect.items():
        if arrays[key].shape != shape:
            raise _flame_error(what, f"{key} must have shape {shape}, not {arrays[key].shape}")
    sd = arrays["shapedirs"]
    if sd.ndim != 3 or sd.shape[:2] != (n, 3) or sd.shape[2] < FLAME_SHAPE_COUNT:
        raise _flame_error(what, f"shapedirs must have shape ({n}, 3, {FLAME_SHAPE_COUNT} + expressions), not {sd.shape}")
    f = arrays["f"]
    if f.ndim != 2 or f.shape[1] != 3 or f.dtype.kind not in "iu":
        raise _flame_error(what, f"f must be integer triangles of shape (F, 3), not {f.dtype} {f.shape}")
    parents = arrays["kintree_table"][0].astype(np.int64)
    parents[parents >= 2 ** 31] = -1  # FLAME stores the root's parent as uint32 -1
    if not np.array_equal(parents, JOINT_PARENTS):
        raise _flame_error(what, f"kintree_table parents must be [-1, 0, 1, 1, 1], not {parents.tolist()}")
    return arrays


def flame_eyelids(arrays: dict[str, np.ndarray], what: str) -> np.ndarray:
    n = arrays["v_template"].shape[0]
    if "eyelid_dirs" in arrays:
        eyelids = arrays["eyelid_dirs"]
    elif "l_eyelid" in arrays and "r_eyelid" in arrays:
        eyelids = np.stack([arrays["l_eyelid"], arrays["r_eyelid"]])
    else:
        return np.zeros((2, n, 3), np.float32)
    if eyelids.shape != (2, n, 3):
        raise _flame_error(what, f"eyelid blendshapes must have shape (2, {n}, 3), not {eyelids.shape}")
    return eyelids


def flame_head(arrays: dict[str, np.ndarray], shape: np.ndarray | None = None,
               expression_count: int = layout.MAX_EXPRESSIONS, what: str = "FLAME model"):
    """A validated :class:`HeadModel` from FLAME arrays, with shape coefficients ``shape`` applied."""
    sd = arrays["shapedirs"].astype(np.float64)
    available = sd.shape[2] - FLAME_SHAPE_COUNT
    if not 0 <= expression_count <= layout.MAX_EXPRESSIONS:
        raise _flame_error(what, f"expression_count must be 0..{layout.MAX_EXPRESSIONS}, not {expression_count}")
    e = min(expression_count, available)
    template = arrays["v_template"].astype(np.float64)
    if shape is not None:
        betas = np.asarray(shape, dtype=np.float64).reshape(-1)
        if betas.size > FLAME_SHAPE_COUNT or not np.isfinite(betas).all():
            raise _flame_error(what, f"shape must hold at most {FLAME_SHAPE_COUNT} finite coefficients, not {betas.size}")
        template = template + sd[:, :, :betas.size] @ betas
    head_arrays = {
        "v_template": template,
        "faces": arrays["f"].astype(np.int64),
        "expr_dirs": np.ascontiguousarray(np.moveaxis(sd[:, :, FLAME_SHAPE_COUNT:FLAME_SHAPE_COUNT + e], 2, 0)),
        "eyelid_dirs": flame_eyelids(arrays, what).astype(np.float64),
        "pose_dirs": np.ascontiguousarray(np.moveaxis(arrays["posedirs"].astype(np.float64), 2, 0)),
        "j_regressor": arrays["J_regressor"].astype(np.float64),
        "weights": arrays["weights"].astype(np.float64),
        "parents": JOINT_PARENTS.copy(),
    }
    n = template.shape[0]
    return head_from_arrays(head_arrays, n, head_arrays["faces"].shape[0], e, what)


def load_flame(path: str | os.PathLike, shape: np.ndarray | None = None,
               expression_count: int = layout.MAX_EXPRESSIONS):
    """Read a FLAME file and build the :class:`HeadModel` (``invalidAvatarMetadata`` if unsafe or malformed)."""
    return flame_head(read_flame_file(path), shape, expression_count, str(path))


def convert_flame(src: str | os.PathLike, dst: str | os.PathLike) -> dict[str, tuple]:
    """Write the FLAME arrays of ``src`` as a pickle-free ``.npz`` (same keys, dense J_regressor).

    Returns each written key's shape.
    """
    arrays = read_flame_file(src)
    out = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
    kintree = out["kintree_table"].astype(np.int64)
    kintree[kintree >= 2 ** 31] = -1
    out["kintree_table"] = kintree
    dst = Path(dst)
    tmp = dst.with_name(f".{dst.name}.part")
    tmp.write_bytes(npz_bytes(out))
    os.replace(tmp, dst)
    return {k: v.shape for k, v in out.items()}
