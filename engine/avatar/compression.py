"""The compressed Gaussian set (``use_compressed_model``): about a third of the full set's size.

``local_xyz`` and ``local_log_scale`` are float16, quaternions int8 (``round(127 q)``, renormalised on
load), opacity and colour uint8 (``round(255 v)``); parents stay int32. The decoded set draws the same
picture within a small error (documented and tested).
"""

from __future__ import annotations

import numpy as np

from .model import GaussianSet
from .validate import bad, check_gaussians, check_keys

COMPRESSED_KEYS = ("parent", "local_xyz", "local_rot", "local_log_scale", "opacity", "color")
_DTYPES = {"parent": np.int32, "local_xyz": np.float16, "local_rot": np.int8, "local_log_scale": np.float16,
           "opacity": np.uint8, "color": np.uint8}


def compress_gaussians(gs: GaussianSet) -> dict[str, np.ndarray]:
    return {
        "parent": gs.parent.astype(np.int32),
        "local_xyz": gs.local_xyz.astype(np.float16),
        "local_rot": np.round(gs.local_rot * 127.0).astype(np.int8),
        "local_log_scale": gs.local_log_scale.astype(np.float16),
        "opacity": np.round(gs.opacity * 255.0).astype(np.uint8),
        "color": np.round(gs.color * 255.0).astype(np.uint8),
    }


def decompress_gaussians(arrays: dict, count: int, faces: int, what: str = "gaussians_compressed.npz") -> GaussianSet:
    check_keys(arrays, COMPRESSED_KEYS, what)
    shapes = {"parent": (count,), "local_xyz": (count, 3), "local_rot": (count, 4), "local_log_scale": (count, 3),
              "opacity": (count,), "color": (count, 3)}
    for key, dtype in _DTYPES.items():
        arr = arrays[key]
        if arr.dtype != np.dtype(dtype) or arr.shape != shapes[key]:
            raise bad(what, f"{key} must be {np.dtype(dtype).name} of shape {shapes[key]}, not {arr.dtype} {arr.shape}")
    xyz = arrays["local_xyz"].astype(np.float32)
    log_scale = arrays["local_log_scale"].astype(np.float32)
    if not (np.isfinite(xyz).all() and np.isfinite(log_scale).all()):
        raise bad(what, "local_xyz and local_log_scale must be finite")
    rot = arrays["local_rot"].astype(np.float32)
    norms = np.linalg.norm(rot, axis=1, keepdims=True)
    if (norms < 64.0).any():
        raise bad(what, "local_rot must hold int8 quaternions of length about 127 (round(127 q))")
    gs = GaussianSet(
        parent=np.ascontiguousarray(arrays["parent"], dtype=np.int32),
        local_xyz=np.ascontiguousarray(xyz),
        local_rot=np.ascontiguousarray(rot / norms),
        local_log_scale=np.ascontiguousarray(log_scale),
        opacity=arrays["opacity"].astype(np.float32) / 255.0,
        color=np.ascontiguousarray(arrays["color"].astype(np.float32) / 255.0),
    )
    return check_gaussians(gs, count, faces, what)
