"""FLAME-style linear blend skinning in numba: pose vector → posed vertices.

v_shaped = template + expr_dirs·expr + eyelid_dirs·eyelids; joints = j_regressor @ v_shaped;
v_posed = v_shaped + pose_dirs·(R_j − I for joints 1..4, row-major); forward kinematics along
parents [-1, 0, 1, 1, 1] with the global ``rotation`` at the root; skinning; + translation.

Speed: all blendshapes (expression, eyelid, pose corrective) are one stacked basis (C, 3V) cut into
blocks of whole vertices; only the blocks of a row that are not all zero are kept (blendshapes are
local: the demo head keeps 22% of its basis), stored block by block, so a block's rows are one
contiguous run. Each block is blended in a thread's own L1 accumulator with fixed-length, vectorised
row updates (measured 4× faster than updating the vertex buffer in place over a variable length),
skipping zero coefficients, then skinned straight from it. The joint regressor is folded into
per-coefficient joint offsets at construction, so nothing per frame touches (5, V). Every per-frame
array is preallocated here.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..avatar.model import HeadModel
from ..motion import layout
from .rotation import rodrigues_into

BLOCK = 3 * 256  # floats (whole vertices) per block: the accumulator stays in L1 while basis rows stream past
_PARENTS = (-1, 0, 1, 1, 1)


@nb.njit(cache=True, nogil=True)
def _rig(pose, expr_count, j_template, j_dirs, coefs, rots, joints, glob, rel):
    """Per-frame joint maths: blend coefficients, joint rotations, FK.

    ``glob`` (5, 3, 4) receives each joint's global rigid transform, ``rel`` the same minus the rest pose.
    """
    e = expr_count
    for i in range(e):
        coefs[i] = pose[layout.EXPRESSION_OFFSET + i]
    coefs[e], coefs[e + 1] = pose[18], pose[19]
    for j in range(5):
        rodrigues_into(np.float64(pose[3 + 3 * j]), np.float64(pose[4 + 3 * j]), np.float64(pose[5 + 3 * j]), rots[j])
    for j in range(1, 5):  # pose-corrective features, FLAME order
        for r in range(3):
            for c in range(3):
                coefs[e + 2 + (j - 1) * 9 + r * 3 + c] = rots[j, r, c] - (1.0 if r == c else 0.0)
    joints[:] = j_template
    for c in range(e + 2):
        if coefs[c] != 0.0:
            for j in range(5):
                for k in range(3):
                    joints[j, k] += coefs[c] * j_dirs[c, j, k]
    for j in range(5):
        p = _PARENTS[j]
        for r in range(3):
            if p < 0:
                for c in range(3):
                    glob[j, r, c] = rots[j, r, c]
                glob[j, r, 3] = joints[j, r]
            else:
                for c in range(3):
                    glob[j, r, c] = (glob[p, r, 0] * rots[j, 0, c] + glob[p, r, 1] * rots[j, 1, c]
                                     + glob[p, r, 2] * rots[j, 2, c])
                d0, d1, d2 = joints[j, 0] - joints[p, 0], joints[j, 1] - joints[p, 1], joints[j, 2] - joints[p, 2]
                glob[j, r, 3] = glob[p, r, 0] * d0 + glob[p, r, 1] * d1 + glob[p, r, 2] * d2 + glob[p, r, 3]
        for r in range(3):  # remove the rest-pose joint position: rel maps rest-pose points to posed ones
            for c in range(3):
                rel[j, r, c] = glob[j, r, c]
            rel[j, r, 3] = glob[j, r, 3] - (glob[j, r, 0] * joints[j, 0] + glob[j, r, 1] * joints[j, 1]
                                            + glob[j, r, 2] * joints[j, 2])


@nb.njit(cache=True, nogil=True, parallel=True)
def _skin(template, rows, row_start, row_coef, coefs, weights, rel, translation, scratch, out):
    """Blend and skin block by block: ``rows[row_start[b]:row_start[b + 1]]`` are block b's non-zero basis
    rows, ascending by coefficient ``row_coef``; ``template`` is padded to whole blocks."""
    vertices = out.shape[0]
    for b in nb.prange(row_start.shape[0] - 1):
        acc = scratch[nb.get_thread_id()]
        lo = b * BLOCK
        for i in range(BLOCK):
            acc[i] = template[lo + i]
        for e in range(row_start[b], row_start[b + 1]):
            coef = coefs[row_coef[e]]
            if coef == 0.0:
                continue
            k = np.float32(coef)
            for i in range(BLOCK):
                acc[i] += k * rows[e, i]
        first = lo // 3
        for v in range(first, min(first + BLOCK // 3, vertices)):
            x, y, z = acc[3 * (v - first)], acc[3 * (v - first) + 1], acc[3 * (v - first) + 2]
            ox, oy, oz = translation[0], translation[1], translation[2]
            for j in range(5):
                w = weights[v, j]
                if w != 0.0:  # index `rel` directly: a row view would touch its refcount per vertex
                    ox += w * (rel[j, 0, 0] * x + rel[j, 0, 1] * y + rel[j, 0, 2] * z + rel[j, 0, 3])
                    oy += w * (rel[j, 1, 0] * x + rel[j, 1, 1] * y + rel[j, 1, 2] * z + rel[j, 1, 3])
                    oz += w * (rel[j, 2, 0] * x + rel[j, 2, 1] * y + rel[j, 2, 2] * z + rel[j, 2, 3])
            out[v, 0], out[v, 1], out[v, 2] = ox, oy, oz


class Deformer:
    """Poses one :class:`HeadModel`; ``deformer(pose)`` returns its (V, 3) float32 vertices (reused buffer)."""

    def __init__(self, head: HeadModel) -> None:
        v, e = head.vertex_count, head.expression_count
        self.dim = layout.motion_dim(e)
        self.expression_count = e
        self.faces = head.faces
        shape_dirs = np.concatenate([head.expr_dirs, head.eyelid_dirs]).astype(np.float64)
        basis = np.concatenate([head.expr_dirs, head.eyelid_dirs, head.pose_dirs]).reshape(-1, 3 * v)
        blocks = -(-3 * v // BLOCK)
        padded = np.zeros((len(basis), blocks * BLOCK), dtype=np.float32)
        padded[:, : 3 * v] = basis
        by_block = padded.reshape(len(basis), blocks, BLOCK).transpose(1, 0, 2)  # (block, coefficient, BLOCK)
        kept = by_block.any(axis=2)  # C order: block-major, coefficients ascending within a block
        self._rows = np.ascontiguousarray(by_block[kept], dtype=np.float32)
        self._row_coef = np.nonzero(kept)[1].astype(np.int32)
        self._row_start = np.concatenate([[0], np.cumsum(kept.sum(axis=1))]).astype(np.int64)
        self._template = np.zeros(blocks * BLOCK, dtype=np.float32)
        self._template[: 3 * v] = head.v_template.reshape(-1)
        self._scratch = np.zeros((nb.config.NUMBA_NUM_THREADS, BLOCK), dtype=np.float32)
        reg = head.j_regressor.astype(np.float64)
        self._j_template = reg @ head.v_template.astype(np.float64)
        self._j_dirs = np.ascontiguousarray(np.einsum("jv,cvk->cjk", reg, shape_dirs))
        self._weights = np.ascontiguousarray(head.weights, dtype=np.float32)
        self._coefs = np.zeros(len(basis))
        self._rots = np.zeros((5, 3, 3))
        self._joints = np.zeros((5, 3))
        self._glob = np.zeros((5, 3, 4))
        self._rel = np.zeros((5, 3, 4))
        self.vertices = np.zeros((v, 3), dtype=np.float32)

    def __call__(self, pose: np.ndarray) -> np.ndarray:
        _rig(pose, self.expression_count, self._j_template, self._j_dirs, self._coefs, self._rots, self._joints,
             self._glob, self._rel)
        _skin(self._template, self._rows, self._row_start, self._row_coef, self._coefs, self._weights, self._rel,
              pose[layout.TRANSLATION], self._scratch, self.vertices)
        return self.vertices
