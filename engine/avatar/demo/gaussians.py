"""Gaussians of the demo head, bound to its triangles (DESIGN.md §5 binding).

Each layer samples surface points (area-weighted, optionally lifted along the normal), expresses
them in the parent triangle's frame and gives them a flat shape (the small axis along the normal,
local y) sized so that neighbours overlap into a solid surface. Colours have a soft key light baked
in (the splats carry no view-dependent shading) so the relief reads in a flat render.
"""

from __future__ import annotations

import numpy as np

from ..binding_frames import triangle_frames, world_to_local
from ..model import GaussianSet
from . import mesh as M
from .shapes import gauss, smoothstep

SKIN_TONE = np.array([0.86, 0.66, 0.55])
LIP_TONE = np.array([0.74, 0.40, 0.38])
HAIR_TONE = np.array([0.13, 0.085, 0.06])
LIGHT = np.array([0.35, 0.45, 1.0]) / np.linalg.norm([0.35, 0.45, 1.0])

# Gaussians per layer (about 30k in all).
COUNTS = {"skin": 20000, "hair": 8200, "brows": 700, "lashes": 500, "eyes": 2000, "teeth": 900,
          "cavity": 900}
# Splat size (tangent σ) as a fraction of the local spacing between samples: small, nearly opaque
# splats that overlap just enough to close the surface keep the picture crisp and cheap to draw
# (a pixel saturates after a few layers instead of blending twenty soft splats).
SKIN_SIZE, SKIN_OPACITY = 1.1, 0.99
HAIR_SIZE, HAIR_STRETCH, HAIR_OPACITY = 0.5, 2.5, 0.95
EYE_SIZE, EYE_CAP_DEGREES = 0.75, 105.0
CAVITY_SIZE = 0.8


class _Layers:
    def __init__(self, m: M.DemoMesh, rng: np.random.Generator):
        self.m = m
        self.rng = rng
        self.centroid, self.rot, self.scale = triangle_frames(m.vertices, m.faces)
        v = m.vertices[m.faces]
        self.area = 0.5 * np.linalg.norm(np.cross(v[:, 1] - v[:, 0], v[:, 2] - v[:, 0]), axis=1)
        self.out = {k: [] for k in ("parent", "xyz", "rot", "log_scale", "opacity", "color")}

    def sample(self, face_weight: np.ndarray, count: int):
        """``count`` points on faces drawn with probability ``area * face_weight``, and the mean spacing
        (metres) between neighbouring points around each.

        Stratified: one random offset, then evenly spaced steps through the faces' cumulative
        probability (faces are in grid order), so every face gets the floor or ceiling of its
        expected share instead of a Poisson count. Without the clumps and gaps of independent draws,
        small splats close into a solid surface with far less overlap.
        """
        p = self.area * face_weight
        total = p.sum()
        cdf = np.cumsum(p) / total
        steps = (self.rng.random() + np.arange(count)) / count
        tri = np.minimum(np.searchsorted(cdf, steps, side="right"), len(p) - 1)
        r1, r2 = self.rng.random(count), self.rng.random(count)
        s = np.sqrt(r1)
        bary = np.stack([1 - s, s * (1 - r2), s * r2], axis=1)
        pts = np.einsum("nk,nkd->nd", bary, self.m.vertices[self.m.faces[tri]])
        spacing = np.sqrt(total / (count * face_weight[tri]))  # 1 / sqrt(points per square metre)
        return tri, pts, spacing

    def add(self, tri, pts, size, flatness, opacity, color, lift=0.0, stretch=1.0, along=None):
        """Append Gaussians at ``pts`` (+ ``lift`` metres along the normal) of tangent ``size`` metres,
        ``stretch`` times longer along world directions ``along`` (N,3) if given, else in random directions."""
        n = len(tri)
        local = world_to_local(pts, tri, self.centroid, self.rot, self.scale)
        # The points lie in their triangle's plane: set the normal coordinate exactly instead of keeping
        # ~1e-14 of rounding noise (which would differ between CPUs and break bit-reproducibility).
        local[:, 1] = np.broadcast_to(np.asarray(lift, float), (n,)) / self.scale[tri]
        angle = self.rng.uniform(0, np.pi, n)  # spin about the normal (local y)
        if along is not None:
            # A turn by t about local y takes local x to (cos t, 0, -sin t): aim x along the direction.
            t = np.einsum("nji,nj->ni", self.rot[tri], along)
            angle = np.arctan2(-t[:, 2], t[:, 0]) + 0.25 * (angle - np.pi / 2)
        quat = np.stack([np.cos(angle / 2), np.zeros(n), np.sin(angle / 2), np.zeros(n)], axis=1)
        size = np.broadcast_to(np.asarray(size, float), (n,)) * self.rng.uniform(0.85, 1.15, n)
        scales = np.stack([size * stretch, size * flatness, size], axis=1)
        self.out["parent"].append(tri)
        self.out["xyz"].append(local)
        self.out["rot"].append(quat)
        self.out["log_scale"].append(np.log(scales / self.scale[tri][:, None]))
        self.out["opacity"].append(np.broadcast_to(np.asarray(opacity, float), (n,)).copy())
        self.out["color"].append(np.clip(color, 0.0, 1.0))

    def shade(self, tri, color, ambient=0.55):
        """Bake a soft key light from the upper right front into ``color``."""
        # An elementwise sum, not ``@``: BLAS kernels differ per CPU, and the demo must be bit-reproducible.
        lit = np.clip((self.rot[tri][:, :, 1] * LIGHT).sum(axis=1), 0.0, 1.0)
        return color * (ambient + (1.0 - ambient) * lit)[:, None]

    def result(self) -> GaussianSet:
        cat = {k: np.concatenate(v) for k, v in self.out.items()}
        return GaussianSet(
            parent=cat["parent"].astype(np.int32),
            local_xyz=cat["xyz"].astype(np.float32),
            local_rot=cat["rot"].astype(np.float32),
            local_log_scale=cat["log_scale"].astype(np.float32),
            opacity=cat["opacity"].astype(np.float32),
            color=cat["color"].astype(np.float32),
        )


def hairline(u: np.ndarray) -> np.ndarray:
    """Height of the hairline at azimuth ``u`` (0 = front): high on the forehead, low at the nape."""
    back = (1.0 - np.cos(u)) / 2.0
    around_ears = 0.055 * gauss(np.abs(u) - M.EAR_AZIMUTH, 0.22)  # hair cut short over the ears
    return 0.07 - 0.145 * back ** 0.8 + around_ears


def _occlusion(pts):
    """Darken creases a key light alone leaves flat: eye sockets, under the nose, the mouth line, under the jaw."""
    x, y, z = pts[:, 0], pts[:, 1], pts[:, 2]
    ax = np.abs(x)
    front = z > 0.03
    dark = 0.18 * gauss(ax - M.EYE_X, 0.011) * gauss(y - (M.EYE_Y + 0.004), 0.008) * front
    dark += 0.08 * gauss(x, 0.007) * gauss(y + 0.041, 0.003) * front
    dark += 0.25 * gauss(x, 0.02) * gauss(y - M.MOUTH_Y, 0.0015) * (ax < 0.026) * front
    dark += 0.4 * smoothstep(-0.108, -0.125, y) * smoothstep(-0.2, -0.14, y) * smoothstep(-0.01, 0.03, z)
    return 1.0 - dark


def lip_mask(x, y):
    """Soft lip region around the mouth line (upper lip thinner, with a slight cupid's bow)."""
    h_up = 0.007 * np.clip(1 - (x / 0.025) ** 2, 0, 1) ** 0.6 - 0.0012 * gauss(x, 0.004)
    h_lo = 0.0085 * np.clip(1 - (x / 0.024) ** 2, 0, 1) ** 0.6
    dy = y - M.MOUTH_Y
    inside_up = smoothstep(h_up + 0.0008, h_up - 0.0008, dy) * (dy >= 0)
    inside_lo = smoothstep(-h_lo - 0.0008, -h_lo + 0.0008, dy) * (dy < 0)
    # Both heights reach 0 at the corners; past them the mask would leave a hairline of lip tone
    # along the mouth row across the cheeks, so it ends there.
    return (inside_up + inside_lo) * smoothstep(0.027, 0.024, np.abs(x))


def _skin(layers: _Layers, skin, in_hair, rng) -> None:
    """Skin everywhere (denser on the face, sparse under the hair), with cheeks, lips and creases."""
    cen = layers.centroid
    front = smoothstep(0.0, 0.06, cen[:, 2])
    # Denser (so smaller) splats around the eye openings: the lids' rims stay sharp and closed, and
    # no tail creeps over the eye to narrow it.
    rim = np.minimum(M.eye_opening_radius(cen[:, 0], cen[:, 1], 1.0), M.eye_opening_radius(cen[:, 0], cen[:, 1], -1.0))
    near_eye = smoothstep(1.8, 1.1, np.where(cen[:, 2] > 0.03, rim, 9.0))
    # The corners of the mouth stretch most when the jaw opens or the lips spread: denser there too.
    corner = gauss(np.abs(cen[:, 0]) - M.MOUTH_HALF_WIDTH, 0.006) * gauss(cen[:, 1] - M.MOUTH_Y, 0.008) * (cen[:, 2] > 0.03)
    weight = skin * (1.0 + 2.5 * front * (cen[:, 1] > -0.12)) * np.where(in_hair, 0.3, 1.0) * (1.0 + 5.0 * near_eye)
    weight = weight * (1.0 + 2.0 * corner)
    tri, pts, spacing = layers.sample(weight, COUNTS["skin"])
    x, y = pts[:, 0], pts[:, 1]
    tone = SKIN_TONE * rng.uniform(0.96, 1.04, (len(tri), 1))
    cheek = (gauss(np.abs(x) - 0.045, 0.014) * gauss(y + 0.03, 0.014) * (pts[:, 2] > 0))[:, None]
    tone = tone * (1 - 0.12 * cheek) + np.array([0.85, 0.45, 0.42]) * 0.12 * cheek
    lip = lip_mask(x, y)[:, None] * (pts[:, 2] > 0.05)[:, None]
    tone = (1 - lip) * tone + lip * LIP_TONE
    tone = tone * _occlusion(pts)[:, None]
    # Under the hair the scalp is hair-dark, so a gap between strands reads as hair, not as skin.
    tone = np.where(in_hair[tri][:, None], HAIR_TONE * rng.uniform(0.8, 1.1, (len(tri), 1)), tone)
    rim = np.minimum(M.eye_opening_radius(x, y, 1.0), M.eye_opening_radius(x, y, -1.0))
    size = SKIN_SIZE * spacing * (0.85 + 0.15 * smoothstep(1.0, 1.3, np.where(pts[:, 2] > 0.03, rim, 9.0)))
    layers.add(tri, pts, size, 0.2, SKIN_OPACITY, layers.shade(tri, tone, ambient=0.45))


def _hair(layers: _Layers, in_hair, rng) -> None:
    """A layer lifted off the scalp, combed away from the crown, with strand-to-strand tone variation."""
    tri, pts, spacing = layers.sample(in_hair * 1.0, COUNTS["hair"])
    lift = rng.uniform(0.002, 0.007, len(tri))
    tone = HAIR_TONE * rng.uniform(0.8, 1.25, (len(tri), 1))
    combed = pts - np.array([0.0, 0.14, -0.02])  # strands run away from the crown
    layers.add(tri, pts, HAIR_SIZE * spacing, 0.25, HAIR_OPACITY, layers.shade(tri, tone, ambient=0.65), lift=lift,
               stretch=HAIR_STRETCH, along=combed)


def _brows_and_lashes(layers: _Layers, m: M.DemoMesh, skin) -> None:
    """Short dark splats along each brow arch, and a dark line along each upper lid's rim."""
    cen = layers.centroid
    arch = 0.031 - 10.0 * (np.abs(cen[:, 0]) - 0.03) ** 2
    brow_face = skin * gauss(np.abs(cen[:, 0]) - 0.031, 0.009) * (np.abs(cen[:, 1] - arch) < 0.0028)
    brow_face = brow_face * (np.abs(cen[:, 0]) > 0.012) * (cen[:, 2] > 0.04)
    tri, pts, _ = layers.sample(brow_face, COUNTS["brows"])
    layers.add(tri, pts, 0.0012, 0.3, 0.8, layers.shade(tri, HAIR_TONE * 1.3 * np.ones((len(tri), 1))), lift=0.0005,
          stretch=2.2)
    lash_face = np.zeros(len(m.faces))
    for k in range(2):
        rho = m.eye_rho[k][m.faces].min(axis=1)  # faces along the rim touch it
        lash_face += skin * smoothstep(M.EYE_Y - 0.002, M.EYE_Y + 0.003, cen[:, 1]) * smoothstep(1.3, 1.0, rho) * (rho >= 0.9)
    tri, pts, _ = layers.sample(lash_face, COUNTS["lashes"])
    # Laid along the rim (tangent of the opening's ellipse), so they join into a dark line.
    side = np.where(pts[:, 0] > 0, 1.0, -1.0)
    dx, dy = (pts[:, 0] - side * M.EYE_X) / M.EYE_OPENING[0] ** 2, (pts[:, 1] - M.EYE_Y) / M.EYE_OPENING[1] ** 2
    rim_dir = np.stack([-dy, dx, np.zeros(len(tri))], axis=1)
    layers.add(tri, pts, 0.0007, 0.3, 0.95, np.tile([0.06, 0.04, 0.035], (len(tri), 1)), lift=0.0006, stretch=2.2,
               along=rim_dir)


def _eyes(layers: _Layers, m: M.DemoMesh, rng) -> None:
    """White sclera, a brown iris with a darker ring and a black pupil around each eye's +z axis."""
    for part, c in ((M.EYE_LEFT, m.eye_centers[0]), (M.EYE_RIGHT, m.eye_centers[1])):
        # Only the front cap: the rest of the eyeball faces into the head, behind the skin, at any gaze.
        cap = (layers.centroid - c)[:, 2] > np.cos(np.radians(EYE_CAP_DEGREES)) * M.EYE_RADIUS
        tri, pts, spacing = layers.sample((m.face_part == part) * cap * 1.0, COUNTS["eyes"] // 2)
        d = (pts - c) / np.linalg.norm(pts - c, axis=1, keepdims=True)
        ang = np.degrees(np.arccos(np.clip(d[:, 2], -1, 1)))
        iris = smoothstep(24.0, 22.0, ang)[:, None]
        pupil = smoothstep(9.0, 7.5, ang)[:, None]
        ring = gauss(ang - 21.5, 1.8)[:, None]
        tone = (1 - iris) * np.array([0.93, 0.91, 0.88]) + iris * np.array([0.45, 0.30, 0.17])
        tone = tone * (1 - 0.5 * ring)
        tone = (1 - pupil) * tone + pupil * np.array([0.03, 0.02, 0.02])
        layers.add(tri, pts, EYE_SIZE * spacing, 0.25, 1.0, tone * rng.uniform(0.97, 1.0, (len(tri), 1)))


def _mouth(layers: _Layers, m: M.DemoMesh, rng) -> None:
    """Teeth, and the inside of the mouth with a tongue on its floor."""
    fp = m.face_part
    tri, pts, _ = layers.sample((fp == M.TEETH_UPPER) | (fp == M.TEETH_LOWER), COUNTS["teeth"])
    tone = np.tile([0.93, 0.91, 0.84], (len(tri), 1)) * rng.uniform(0.93, 1.0, (len(tri), 1))
    # Smaller towards the gums' edge, which sits close behind the skin under the lower lip.
    size = 0.0014 * (0.5 + 0.5 * smoothstep(0.0095, 0.006, np.abs(pts[:, 1] - M.MOUTH_Y)))
    layers.add(tri, pts, size, 0.3, 1.0, tone)
    tri, pts, spacing = layers.sample((fp == M.CAVITY) * 1.0, COUNTS["cavity"])
    tongue = smoothstep(M.MOUTH_Y - 0.006, M.MOUTH_Y - 0.012, pts[:, 1])[:, None]
    tone = (1 - tongue) * np.array([0.28, 0.07, 0.08]) + tongue * np.array([0.62, 0.28, 0.28])
    layers.add(tri, pts, CAVITY_SIZE * spacing, 0.3, 1.0, tone)


def demo_gaussians(m: M.DemoMesh, rng: np.random.Generator) -> GaussianSet:
    """All layers, in a fixed order (the order is part of the seeded, reproducible result)."""
    layers = _Layers(m, rng)
    skin = m.face_part == M.SKIN
    cen = layers.centroid
    in_hair = skin & (cen[:, 1] > hairline(np.arctan2(cen[:, 0], cen[:, 2])))
    _skin(layers, skin, in_hair, rng)
    _hair(layers, in_hair, rng)
    _brows_and_lashes(layers, m, skin)
    _eyes(layers, m, rng)
    _mouth(layers, m, rng)
    return layers.result()
