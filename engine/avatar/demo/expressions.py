"""Expression and eyelid blendshapes of the demo head (displacements in metres at coefficient 1).

The first ``len(NAMED_EXPRESSIONS)`` expressions have meanings (below); the rest are small, smooth,
localised deformations of the lower face (seeded), like the tail of a PCA basis. Values below
1 micrometre are zeroed so the package compresses well.
"""

from __future__ import annotations

import numpy as np

from . import mesh as M
from .shapes import gauss, rotate_x, smoothstep

EXPRESSION_COUNT = 50
NAMED_EXPRESSIONS = (
    "mouth_open", "lip_pucker", "lip_spread", "smile", "frown", "brows_up", "brows_down",
    "upper_lip_up", "lower_lip_down", "cheek_puff", "lip_press", "nose_wrinkle", "smile_left",
    "smile_right", "brow_up_left", "brow_up_right", "squint", "lip_funnel", "mouth_left", "mouth_right",
)


def _vec(dx=0.0, dy=0.0, dz=0.0, n=1):
    return np.stack(np.broadcast_arrays(np.asarray(dx, float) * np.ones(n), np.asarray(dy, float) * np.ones(n),
                                        np.asarray(dz, float) * np.ones(n)), axis=1)


def expression_dirs(m: M.DemoMesh, rng: np.random.Generator) -> np.ndarray:
    v = m.vertices
    n = len(v)
    x, y, z = v[:, 0], v[:, 1], v[:, 2]
    skin = (m.vertex_part == M.SKIN) & (z > 0.0)
    front = skin * smoothstep(0.02, 0.06, z)
    upper = (y >= M.MOUTH_Y) & ~m.lower_lip
    lower = ~upper
    lips = front * gauss(x, 0.022) * gauss(y - M.MOUTH_Y, 0.011)
    lip_width = np.sqrt(np.clip(1.0 - (x / 0.03) ** 2, 0.0, 1.0))
    near_lip_up = front * upper * lip_width * gauss(y - M.MOUTH_Y, 0.009)
    near_lip_lo = front * lower * lip_width * gauss(y - M.MOUTH_Y, 0.011)
    corner = {s: front * gauss(x - s * 0.026, 0.013) * gauss(y - M.MOUTH_Y, 0.012) for s in (1, -1)}
    corners = corner[1] + corner[-1]
    brow = {s: skin * gauss(x - s * 0.03, 0.018) * gauss(y - 0.034, 0.012) for s in (1, -1)}
    brows = brow[1] + brow[-1]
    cheeks = front * (gauss(np.abs(x) - 0.042, 0.016)) * gauss(y + 0.04, 0.016)
    under_eye = skin * sum(gauss(x - s * M.EYE_X, 0.012) * gauss(y - (M.EYE_Y - 0.011), 0.005) for s in (1, -1))
    nose = front * gauss(x, 0.012) * gauss(y + 0.02, 0.012)

    d = np.zeros((EXPRESSION_COUNT, n, 3))
    d[0] = _vec(dy=0.004 * near_lip_up - 0.006 * near_lip_lo, n=n)
    d[1] = _vec(dx=-0.45 * x * lips, dz=0.008 * lips, n=n)
    d[2] = _vec(dx=0.3 * x * lips, dz=-0.002 * lips, n=n)
    d[3] = _vec(dx=0.005 * np.sign(x) * corners, dy=0.008 * corners + 0.003 * cheeks, dz=-0.003 * corners, n=n)
    d[4] = _vec(dy=-0.006 * corners, n=n)
    d[5] = _vec(dy=0.007 * brows, n=n)
    d[6] = _vec(dx=-0.003 * np.sign(x) * brows, dy=-0.004 * brows, dz=0.001 * brows, n=n)
    d[7] = _vec(dy=0.003 * near_lip_up, dz=0.001 * near_lip_up, n=n)
    d[8] = _vec(dy=-0.004 * near_lip_lo, dz=0.001 * near_lip_lo, n=n)
    d[9] = _vec(dx=0.006 * np.sign(x) * cheeks, dz=0.003 * cheeks, n=n)
    d[10] = _vec(dz=-0.002 * lips, dy=-0.001 * near_lip_up + 0.001 * near_lip_lo, n=n)
    d[11] = _vec(dy=0.002 * nose, dz=-0.001 * nose, n=n)
    for k, s in ((12, 1), (13, -1)):
        c = corner[s]
        d[k] = _vec(dx=0.005 * s * c, dy=0.008 * c, dz=-0.003 * c, n=n)
    for k, s in ((14, 1), (15, -1)):
        d[k] = _vec(dy=0.007 * brow[s], n=n)
    d[16] = _vec(dy=0.002 * under_eye, n=n)
    d[17] = _vec(dz=0.004 * lips, dy=0.001 * near_lip_up - 0.002 * near_lip_lo, n=n)
    d[18] = _vec(dx=-0.006 * lips, n=n)
    d[19] = _vec(dx=0.006 * lips, n=n)
    # The tail: seeded smooth bumps on the lower face.
    for k in range(len(NAMED_EXPRESSIONS), EXPRESSION_COUNT):
        cx, cy = rng.uniform(-0.04, 0.04), rng.uniform(-0.1, -0.01)
        direction = rng.normal(size=3)
        direction /= np.linalg.norm(direction)
        bump = front * gauss(x - cx, 0.012) * gauss(y - cy, 0.012)
        d[k] = 0.0015 * bump[:, None] * direction
    d[np.abs(d) < 1e-6] = 0.0
    return d


def eyelid_dirs(m: M.DemoMesh) -> np.ndarray:
    """(2, V, 3): left then right eye closing. The upper lid skin (around the opening, above it)
    rotates about the eyeball centre until the rim meets the lower lid, which rises a little."""
    v = m.vertices
    d = np.zeros((2, len(v), 3))
    skin = m.vertex_part == M.SKIN
    rim_angle = np.arctan2(M.EYE_OPENING[1], M.EYE_RADIUS)
    for k, c in enumerate(m.eye_centers):  # left, right
        rho = m.eye_rho[k]
        near = skin & (v[:, 2] > c[2]) & (rho < 2.4)
        upper = near & (v[:, 1] >= c[1])
        lower = near & (v[:, 1] < c[1])
        fall_up = smoothstep(2.3, 1.0, rho)
        fall_lo = smoothstep(1.8, 1.0, rho)
        # Rotation about +x by a positive angle moves points in front of the centre downwards.
        angle = np.where(upper, 1.75 * rim_angle * fall_up, 0.0) - np.where(lower, 0.2 * rim_angle * fall_lo, 0.0)
        sel = upper | lower
        d[k, sel] = rotate_x(v[sel], c, angle[sel]) - v[sel]
    d[np.abs(d) < 1e-6] = 0.0
    return d


def mouth_shapes() -> dict[str, dict[int, float]]:
    """The demo head realises every named mouth shape (engine.avatar.mouth) with its own blendshape."""
    from ..mouth import MOUTH_SHAPES

    return {name: {NAMED_EXPRESSIONS.index(name): 1.0} for name in MOUTH_SHAPES}
