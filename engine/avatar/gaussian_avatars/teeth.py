"""The mouth GaussianAvatars adds to FLAME: 120 teeth vertices and 168 triangles (V 5023 → 5143).

These are facts of GaussianAvatars' FLAME variant (the avatar's Gaussians are bound to its triangle
indices, so vertex and face order must be exactly the same; the code here is Facecast's own):
- two rings of 15 FLAME vertices, the outer rims of the upper and lower lip, pair the lips left to right;
- with d the mean distance between paired lip vertices and m their midpoints (y set to the rings' mean
  height, z moved back by 1.5 d), the teeth are thin slabs: upper front edge m + 0.1 d·ŷ, upper root
  2 d above it; lower front edge m − 0.1 d·ŷ − 0.4 d·ẑ, lower root 2 d below it; each has a back copy
  d behind (−ẑ);
- vertices are appended in 8 rows of 15: upper root, lower root, upper edge, lower edge, upper root back,
  upper edge back, lower root back, lower edge back;
- shape blendshapes of a teeth vertex are the mean of its lip pair's; expression and pose correctives and
  the joint regressor are zero; upper teeth follow the neck joint, lower teeth the jaw;
- faces: per jaw a front, a back and an edge strip of 14 quads; each quad's diagonal flips at the middle
  (quad 7), so the slab is mirror-symmetric.
"""

from __future__ import annotations

import numpy as np

FLAME_VERTEX_COUNT = 5023
FLAME_FACE_COUNT = 9976
LIP_UPPER = (1713, 1715, 1716, 1735, 1696, 1694, 1657, 3543, 2774, 2811, 2813, 2850, 2833, 2832, 2830)
LIP_LOWER = (1576, 1577, 1773, 1774, 1795, 1802, 1865, 3503, 2948, 2905, 2898, 2881, 2880, 2713, 2712)
RING = 15
TEETH_VERTEX_COUNT = 8 * RING
TEETH_FACE_COUNT = 6 * 2 * (RING - 1)
NECK, JAW = 1, 2

# row of each part in the appended block
UPPER_ROOT, LOWER_ROOT, UPPER_EDGE, LOWER_EDGE, UPPER_ROOT_BACK, UPPER_EDGE_BACK, LOWER_ROOT_BACK, LOWER_EDGE_BACK = \
    range(8)
UPPER_ROWS = (UPPER_ROOT, UPPER_EDGE, UPPER_ROOT_BACK, UPPER_EDGE_BACK)
LOWER_ROWS = (LOWER_ROOT, LOWER_EDGE, LOWER_ROOT_BACK, LOWER_EDGE_BACK)

# quad (a_i, a_i+1, b_i, b_i+1) split in two triangles, corners as (row a or b, +0 or +1 along the ring)
_P = (((0, 0), (1, 1), (1, 0)), ((0, 0), (0, 1), (1, 1)))
_Q = (((0, 0), (0, 1), (1, 0)), ((0, 1), (1, 1), (1, 0)))
_P_BACK = (((0, 0), (1, 0), (1, 1)), ((0, 0), (1, 1), (0, 1)))
_Q_BACK = (((0, 0), (1, 0), (0, 1)), ((0, 1), (1, 0), (1, 1)))
# (row a, row b, split left of the middle, split from the middle on), in the order the faces are appended
_STRIPS = (
    (UPPER_ROOT, UPPER_EDGE, _P, _Q),
    (UPPER_ROOT_BACK, UPPER_EDGE_BACK, _P_BACK, _Q_BACK),
    (UPPER_EDGE_BACK, UPPER_EDGE, _Q_BACK, _P_BACK),
    (LOWER_EDGE, LOWER_ROOT, _Q, _P),
    (LOWER_ROOT_BACK, LOWER_EDGE_BACK, _P, _Q),
    (LOWER_EDGE_BACK, LOWER_EDGE, _Q, _P),
)
_MIDDLE = 7


def teeth_faces(first_vertex: int = FLAME_VERTEX_COUNT) -> np.ndarray:
    """The 168 teeth triangles (int64, (168, 3)) indexing vertices from ``first_vertex`` on."""
    out = []
    for row_a, row_b, left, right in _STRIPS:
        rows = (row_a, row_b)
        for i in range(RING - 1):
            for tri in (left if i < _MIDDLE else right):
                out.append([first_vertex + rows[side] * RING + i + step for side, step in tri])
    return np.array(out, np.int64)


def teeth_vertices(v_template: np.ndarray) -> np.ndarray:
    """The 120 teeth vertices (float64, (120, 3)) made from FLAME's template lip rims."""
    up = np.asarray(v_template, np.float64)[list(LIP_UPPER)]
    lo = np.asarray(v_template, np.float64)[list(LIP_LOWER)]
    d = float(np.linalg.norm(up - lo, axis=1).mean())
    mid = 0.5 * (up + lo)
    mid[:, 1] = mid[:, 1].mean()
    mid[:, 2] -= 1.5 * d
    y, z = np.array([0.0, d, 0.0]), np.array([0.0, 0.0, d])
    rows = [None] * 8
    rows[UPPER_EDGE] = mid + 0.1 * y
    rows[UPPER_ROOT] = rows[UPPER_EDGE] + 2.0 * y
    rows[LOWER_EDGE] = mid - 0.1 * y - 0.4 * z
    rows[LOWER_ROOT] = rows[LOWER_EDGE] - 2.0 * y
    for back, front in ((UPPER_ROOT_BACK, UPPER_ROOT), (UPPER_EDGE_BACK, UPPER_EDGE),
                        (LOWER_ROOT_BACK, LOWER_ROOT), (LOWER_EDGE_BACK, LOWER_EDGE)):
        rows[back] = rows[front] - z  # slab thickness d
    return np.concatenate(rows)


def add_teeth(flame: dict[str, np.ndarray], shape_count: int = 300) -> dict[str, np.ndarray]:
    """FLAME arrays (``engine.avatar.flame.read_flame_file``) extended with the teeth, same keys and layout.

    ``shapedirs`` (V, 3, S + X): the first ``shape_count`` components of teeth vertices average their lip
    pair's, the rest are zero.
    """
    v = flame["v_template"].astype(np.float64)
    n = v.shape[0]
    sd = flame["shapedirs"].astype(np.float64)
    lip_mean = 0.5 * (sd[list(LIP_UPPER), :, :shape_count] + sd[list(LIP_LOWER), :, :shape_count])
    sd_teeth = np.zeros((TEETH_VERTEX_COUNT,) + sd.shape[1:])
    sd_teeth[:, :, :shape_count] = np.tile(lip_mean, (8, 1, 1))  # every row i pairs with lip i
    weights_teeth = np.zeros((TEETH_VERTEX_COUNT, flame["weights"].shape[1]))
    for rows, joint in ((UPPER_ROWS, NECK), (LOWER_ROWS, JAW)):
        for r in rows:
            weights_teeth[r * RING:(r + 1) * RING, joint] = 1.0
    out = dict(flame)
    out["v_template"] = np.concatenate([v, teeth_vertices(v)])
    out["f"] = np.concatenate([flame["f"].astype(np.int64), teeth_faces(n)])
    out["shapedirs"] = np.concatenate([sd, sd_teeth])
    out["posedirs"] = np.concatenate([flame["posedirs"].astype(np.float64),
                                      np.zeros((TEETH_VERTEX_COUNT,) + flame["posedirs"].shape[1:])])
    out["J_regressor"] = np.concatenate([flame["J_regressor"].astype(np.float64),
                                         np.zeros((flame["J_regressor"].shape[0], TEETH_VERTEX_COUNT))], axis=1)
    out["weights"] = np.concatenate([flame["weights"].astype(np.float64), weights_teeth])
    if "eyelid_dirs" in flame:  # eyelid blendshapes some FLAME variants carry: the teeth do not blink
        lids = flame["eyelid_dirs"]
        out["eyelid_dirs"] = np.concatenate([lids, np.zeros((lids.shape[0], TEETH_VERTEX_COUNT, 3))], axis=1)
    for key in ("l_eyelid", "r_eyelid"):
        if key in flame:
            out[key] = np.concatenate([flame[key], np.zeros((TEETH_VERTEX_COUNT, 3))])
    return out
