"""Skinning weights, joint regressor and pose correctives of the demo head.

Joints (FLAME order): root at the base of the neck, neck, jaw (pivot in front of the ears), left
and right eye (eyeball centres). The regressor averages vertices, so joints follow the blendshapes.
"""

from __future__ import annotations

import numpy as np

from . import mesh as M
from .shapes import gauss, smoothstep


def skinning_weights(m: M.DemoMesh) -> np.ndarray:
    """(V, 5) weights, rows summing to 1: neck blend at the bottom, jaw below the mouth, eyeballs to eyes."""
    v = m.vertices
    x, y, z = v[:, 0], v[:, 1], v[:, 2]
    part = m.vertex_part
    w = np.zeros((len(v), 5))
    root = smoothstep(-0.15, -0.2, y)
    # Below the mouth line inside the mouth's width the jaw takes over at once; towards the
    # corners and the cheeks it fades in over a growing distance so the skin stretches smoothly.
    y_eff = np.where(m.lower_lip, M.MOUTH_Y - 0.0012, y)
    reach = 0.001 + 0.02 * smoothstep(0.018, 0.04, np.abs(x))
    below = smoothstep(0.0, 1.0, (M.MOUTH_Y - y_eff) / reach)
    front = smoothstep(-0.02, 0.03, z)  # the jaw's sides end in front of the ears
    throat = smoothstep(-0.145, -0.11, y)  # under the chin the skin stays with the neck
    jaw = below * front * throat
    jaw = np.where(part == M.SKIN, jaw, 0.0)
    jaw[part == M.TEETH_LOWER] = 1.0
    jaw[part == M.CAVITY] = smoothstep(M.MOUTH_Y + 0.004, M.MOUTH_Y - 0.006, y[part == M.CAVITY])
    jaw = np.minimum(jaw, 1.0 - root)
    w[:, 0] = root
    w[:, 2] = jaw
    w[:, 1] = 1.0 - root - jaw
    for joint, eye_part in ((3, M.EYE_LEFT), (4, M.EYE_RIGHT)):
        sel = part == eye_part
        w[sel] = 0.0
        w[sel, joint] = 1.0
    return w


def joint_regressor(m: M.DemoMesh) -> np.ndarray:
    """(5, V): each joint an average of vertices (rows sum to 1)."""
    reg = np.zeros((5, len(m.vertices)))
    reg[0, m.bottom_ring] = 1.0 / len(m.bottom_ring)
    reg[1, m.neck_ring] = 1.0 / len(m.neck_ring)
    reg[2, m.jaw_anchor] = 0.5  # left and right of the pivot: their midpoint lies on the axis
    for joint, eye_part in ((3, M.EYE_LEFT), (4, M.EYE_RIGHT)):
        sel = np.flatnonzero(m.vertex_part == eye_part)
        reg[joint, sel] = 1.0 / len(sel)
    return reg


def pose_correctives(m: M.DemoMesh) -> np.ndarray:
    """(36, V, 3). Non-zero only for the jaw (keeps the throat full as the jaw opens) and the neck
    (a soft crease at the front of the neck when the head nods). Feature index = 9 * (joint - 1) + 3 * row + col
    of (R - I); for a rotation by t about +x, entries (1,2) = -sin t and (2,1) = +sin t."""
    v = m.vertices
    x, y, z = v[:, 0], v[:, 1], v[:, 2]
    dirs = np.zeros((36, len(v), 3))
    skin = m.vertex_part == M.SKIN
    under_chin = gauss(x, 0.03) * gauss(y + 0.12, 0.015) * smoothstep(0.0, 0.04, z) * skin
    jaw_fix = np.stack([np.zeros_like(x), -0.3 * under_chin, under_chin], axis=1) * 0.012
    dirs[9 + 5] = -jaw_fix  # (1,2) = -sin t
    dirs[9 + 7] = jaw_fix  # (2,1) = +sin t  -> together 2 sin t * jaw_fix
    neck_front = gauss(x, 0.035) * gauss(y + 0.14, 0.02) * smoothstep(0.0, 0.04, z) * skin
    crease = np.stack([np.zeros_like(x), np.zeros_like(x), neck_front], axis=1) * 0.006
    dirs[5] = -crease
    dirs[7] = crease
    return dirs
