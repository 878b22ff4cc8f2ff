"""Geometry of the demo head: a skin surface of revolution with facial features, plus eyeballs,
a mouth cavity and teeth. Model space: metres, +y up, the face looks down +z.

The skin is a (rows x columns) grid around the vertical axis, closed at the top by a pole fan and
open at the neck. Two cuts make it a face: the eye openings (triangles removed, the surrounding skin
wrapped onto a sphere around each eyeball so the lids rest on the eye) and the mouth slit (the grid
vertices along the mouth line are duplicated, the lower lip uses the copies, so the jaw can open it).
"""

from __future__ import annotations

import attrs
import numpy as np

from .shapes import gauss, smoothstep

# Part labels of vertices and faces.
SKIN, EYE_LEFT, EYE_RIGHT, CAVITY, TEETH_UPPER, TEETH_LOWER = range(6)

N_COLUMNS = 112
N_ROWS = 100
TOP_Y = 0.125
BOTTOM_Y = -0.22
MOUTH_Y = -0.062
MOUTH_HALF_WIDTH = 0.024
EYE_X, EYE_Y = 0.033, 0.012
EYE_RADIUS = 0.013
LID_GAP = 0.0012  # skin wrapped this far outside the eyeball
EYE_OPENING = (0.0125, 0.0072)  # semi-axes (x, y) of the eye opening
JAW_PIVOT = np.array([0.0, -0.02, 0.0])
EAR_AZIMUTH = np.pi / 2 + 0.12  # ears sit a little behind the side of the head

# Side-view profile below the cranium: y -> (half width, front depth, back depth).
_PROFILE_KEYS = np.array([
    (0.02, 0.077, 0.088, 0.098),
    (0.00, 0.076, 0.087, 0.097),
    (-0.03, 0.072, 0.086, 0.090),
    (-0.06, 0.064, 0.083, 0.075),
    (-0.09, 0.056, 0.074, 0.060),
    (-0.11, 0.049, 0.058, 0.056),
    (-0.125, 0.044, 0.046, 0.055),
    (-0.15, 0.044, 0.045, 0.054),
    (-0.22, 0.052, 0.052, 0.060),
])
_CRANIUM_CENTER_Y = 0.02


@attrs.frozen(eq=False)
class DemoMesh:
    vertices: np.ndarray  # float64 (V, 3)
    faces: np.ndarray  # int32 (F, 3)
    vertex_part: np.ndarray  # int8 (V,)
    face_part: np.ndarray  # int8 (F,)
    skin_u: np.ndarray  # float64 (V,): azimuth of skin vertices (0 = front), nan elsewhere
    lower_lip: np.ndarray  # bool (V,): the mouth-slit copies used by the lower lip
    eye_centers: np.ndarray  # float64 (2, 3): left (+x), right (-x)
    eye_rho: np.ndarray  # float64 (2, V): elliptical distance to each eye opening before the wrap (1 = rim)
    mouth_front_z: float
    neck_ring: np.ndarray  # int (n,): skin vertices of one row at the neck
    bottom_ring: np.ndarray  # int (n,): the lowest skin row
    jaw_anchor: np.ndarray  # int (2,): skin vertices either side of the jaw pivot


def _profile_table(y: np.ndarray) -> np.ndarray:
    """(half width, front depth, back depth) at heights ``y`` — smooth, closing to 0 at the top."""
    keys = _PROFILE_KEYS[::-1]
    lower = np.stack([np.interp(y, keys[:, 0], keys[:, c]) for c in (1, 2, 3)], axis=1)
    t = np.clip((y - _CRANIUM_CENTER_Y) / (TOP_Y - _CRANIUM_CENTER_Y), 0.0, 1.0)
    ell = np.sqrt(np.maximum(1.0 - t * t, 0.0))[:, None] * _PROFILE_KEYS[0, 1:]
    raw = np.where((y > _CRANIUM_CENTER_Y)[:, None], ell, lower)
    # Smooth the piecewise-linear lower profile; keep the cranium's exact ellipse near the pole.
    step = y[1] - y[0]
    kernel = gauss(np.arange(-40, 41) * step, 0.006)
    kernel /= kernel.sum()
    padded = np.pad(raw, ((40, 40), (0, 0)), mode="edge")
    smooth = np.stack([np.convolve(padded[:, c], kernel, mode="valid") for c in range(3)], axis=1)
    blend = smoothstep(0.10, 0.07, y)[:, None]
    return blend * smooth + (1.0 - blend) * raw


def _row_heights() -> np.ndarray:
    """Row heights spaced evenly in (face-weighted) profile arc length, one row exactly on the mouth."""
    y = np.linspace(BOTTOM_Y, TOP_Y, 3451)
    prof = _profile_table(y)
    ds = np.hypot(np.diff(y), np.abs(np.diff(prof[:, 1])))
    density = 1.0 + 1.2 * smoothstep(-0.13, -0.10, y[1:]) * smoothstep(0.06, 0.04, y[1:])
    s = np.concatenate([[0.0], np.cumsum(ds * density)])
    s = s[-1] - s  # arc length from the top pole
    targets = s[0] * np.arange(1, N_ROWS + 1) / N_ROWS  # s[0] is the total, at the bottom; row 0 is the top
    rows = np.interp(targets, s[::-1], y[::-1])
    rows[np.argmin(np.abs(rows - MOUTH_Y))] = MOUTH_Y
    return rows


def _column_angles() -> np.ndarray:
    # Denser columns on the face: u = s - 0.5 sin s halves the spacing at the front.
    s = -np.pi + 2.0 * np.pi * np.arange(N_COLUMNS) / N_COLUMNS
    return s - 0.5 * np.sin(s)


def _face_relief(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Forward (+z) displacement of the front of the head: nose, brows, sockets, cheeks, lips, chin."""
    ax = np.abs(x)
    along = np.clip((0.025 - y) / 0.053, 0.0, 1.0)
    nose = (0.004 + 0.021 * along ** 1.3) * gauss(x, 0.0055 + 0.0045 * along)
    nose *= smoothstep(-0.042, -0.028, y) * smoothstep(0.042, 0.022, y)
    nose += 0.003 * gauss(x, 0.006) * gauss(y + 0.026, 0.006)
    nose += 0.004 * gauss(ax - 0.011, 0.004) * gauss(y + 0.033, 0.004)
    lip_w_up = np.sqrt(np.clip(1.0 - (x / 0.026) ** 2, 0.0, 1.0))
    lip_w_lo = np.sqrt(np.clip(1.0 - (x / 0.025) ** 2, 0.0, 1.0))
    lips = 0.0045 * lip_w_up * gauss(y - (MOUTH_Y + 0.004), 0.0035)
    lips += 0.005 * lip_w_lo * gauss(y - (MOUTH_Y - 0.005), 0.004)
    return (
        nose + lips
        - 0.009 * gauss(ax - EYE_X, 0.015) * gauss(y - EYE_Y, 0.011)  # eye sockets
        + 0.005 * gauss(ax - 0.028, 0.02) * gauss(y - 0.032, 0.007)  # brow ridge
        + 0.006 * gauss(ax - 0.045, 0.018) * gauss(y + 0.02, 0.02)  # cheeks
        + 0.007 * gauss(x, 0.03) * gauss(y + 0.065, 0.022)  # muzzle
        + 0.009 * gauss(x, 0.016) * gauss(y + 0.097, 0.011)  # chin
        - 0.002 * gauss(x, 0.015) * gauss(y + 0.078, 0.004)  # groove under the lower lip
    )


def eye_opening_radius(x: np.ndarray, y: np.ndarray, side: float) -> np.ndarray:
    """Elliptical distance from the eye centre (1 on the rim of the opening); ``side`` is +1 left, -1 right."""
    return np.hypot((x - side * EYE_X) / EYE_OPENING[0], (y - EYE_Y) / EYE_OPENING[1])


def _skin_grid():
    rows = _row_heights()
    u = _column_angles()
    prof = _profile_table(rows)
    uu, _ = np.meshgrid(u, rows)
    cos_u, sin_u = np.cos(uu), np.sin(uu)
    x = prof[:, 0:1] * sin_u
    depth = np.where(cos_u > 0, prof[:, 1:2], prof[:, 2:3])
    z = depth * cos_u
    y = np.broadcast_to(rows[:, None], x.shape).copy()
    front = smoothstep(0.0, 0.5, cos_u)
    z = z + front * _face_relief(x, y)
    ear = 0.015 * gauss(y + 0.004, 0.021) * gauss(np.abs(uu) - EAR_AZIMUTH, 0.11)
    x = x + np.sign(sin_u) * ear
    return rows, u, np.stack([x, y, z], axis=-1), cos_u


def _eye_centers(grid_xyz, cos_u):
    centers = []
    for side in (1.0, -1.0):
        ring = eye_opening_radius(grid_xyz[..., 0], grid_xyz[..., 1], side)
        rim = (np.abs(ring - 1.0) < 0.25) & (cos_u > 0.3)
        z_rim = grid_xyz[..., 2][rim].mean()
        # Eyeball front sits 2 mm in front of the rim so the wrapped lids bulge a little.
        centers.append((side * EYE_X, EYE_Y, z_rim + 0.002 - EYE_RADIUS))
    return np.array(centers)


def _wrap_lids(points, cos_u, centers):
    """Pull the skin around each eye opening onto a sphere just outside the eyeball (the lids)."""
    out = points.copy()
    for side, c in zip((1.0, -1.0), centers):
        rho = eye_opening_radius(points[:, 0], points[:, 1], side)
        w = smoothstep(2.0, 1.0, rho) * (cos_u > 0.3)
        # Project along the eye's axis (+z): x and y stay, so the opening keeps its ellipse, and the rim
        # lands on a sphere just outside the eyeball, so no gap opens between lid and eye. Beyond the
        # sphere's outline the pull fades out, which leaves a small dimple at each corner of the eye.
        radius = EYE_RADIUS + LID_GAP
        lateral = np.hypot(points[:, 0] - c[0], points[:, 1] - c[1])
        w = w * smoothstep(radius, 0.9 * radius, lateral)
        on_sphere = points.copy()
        on_sphere[:, 2] = c[2] + np.sqrt(np.maximum(radius ** 2 - lateral ** 2, 0.0))
        out = out + w[:, None] * (on_sphere - out)
    return out


def _eyeball(center, n_lon=24, n_lat=17):
    """A UV sphere without its pole caps (they face into the head), rows bottom->top."""
    lon = -np.pi + 2.0 * np.pi * np.arange(n_lon) / n_lon
    lat = np.linspace(-0.47 * np.pi, 0.47 * np.pi, n_lat)
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    p = np.stack([np.sin(lo) * np.cos(la), np.sin(la), np.cos(lo) * np.cos(la)], axis=-1) * EYE_RADIUS + center
    return p.reshape(-1, 3), _grid_faces(n_lat, n_lon, wrap=True, flip=True)


def _grid_faces(n_rows, n_cols, wrap, flip=False):
    """Two triangles per grid cell; rows top->bottom, columns left->right give outward +normals."""
    faces = []
    cols = n_cols if wrap else n_cols - 1
    for j in range(n_rows - 1):
        for i in range(cols):
            a, b = j * n_cols + i, j * n_cols + (i + 1) % n_cols
            c, d = a + n_cols, b + n_cols
            faces += [(a, b, c), (b, d, c)] if flip else [(a, c, b), (b, c, d)]
    return np.array(faces, dtype=np.int64)


def _cut_mouth_slit(skin, cos_u, faces, j_mouth, n_cols) -> np.ndarray:
    """Duplicate the interior vertices of the mouth row (copies are appended after the skin and its pole);
    the cells below the row switch to the copies, so the lower lip can part from the upper one.
    Edits ``faces`` in place and returns the duplicated vertex indices."""
    pole = len(skin)
    row_idx = j_mouth * n_cols + np.arange(n_cols)
    slit = row_idx[(np.abs(skin[row_idx, 0]) < MOUTH_HALF_WIDTH) & (cos_u[row_idx] > 0.5)]
    remap_low = np.arange(pole + 1)
    remap_low[slit] = pole + 1 + np.arange(len(slit))
    below = (faces // n_cols).min(axis=1) == j_mouth  # cells whose top row is the mouth row
    faces[below] = remap_low[faces[below]]
    return slit


def _cut_eye_openings(unwrapped, faces) -> np.ndarray:
    """Faces without those inside either eye opening (decided on the skin before the lids wrap)."""
    cen = unwrapped[np.clip(faces, 0, len(unwrapped) - 1)].mean(axis=1)
    keep = np.ones(len(faces), bool)
    for side in (1.0, -1.0):
        keep &= ~((eye_opening_radius(cen[:, 0], cen[:, 1], side) < 1.0) & (cen[:, 2] > 0))
    return faces[keep]


def build_mesh() -> DemoMesh:
    rows, u, grid, cos_u = _skin_grid()
    n_rows, n_cols = grid.shape[:2]
    skin = grid.reshape(-1, 3)
    cos_flat = cos_u.reshape(-1)
    centers = _eye_centers(grid, cos_u)
    unwrapped = skin
    skin = _wrap_lids(skin, cos_flat, centers)
    skin_faces = _grid_faces(n_rows, n_cols, wrap=True)
    pole = len(skin)
    fan = np.array([(pole, i, (i + 1) % n_cols) for i in range(n_cols)], dtype=np.int64)

    j_mouth = int(np.argmin(np.abs(rows - MOUTH_Y)))
    slit = _cut_mouth_slit(skin, cos_flat, skin_faces, j_mouth, n_cols)
    skin_faces = _cut_eye_openings(unwrapped, skin_faces)

    top = np.array([[0.0, TOP_Y, 0.0]])
    vertices = [skin, top, skin[slit]]
    parts = [np.full(pole + 1 + len(slit), SKIN)]
    faces = [np.concatenate([skin_faces, fan])]
    face_parts = [np.full(len(faces[0]), SKIN)]
    base = pole + 1 + len(slit)

    def add(points, tris, part):
        nonlocal base
        vertices.append(points)
        parts.append(np.full(len(points), part))
        faces.append(tris + base)
        face_parts.append(np.full(len(tris), part))
        base += len(points)

    for part, c in zip((EYE_LEFT, EYE_RIGHT), centers):
        add(*_eyeball(c), part)
    mouth_z = float(skin[j_mouth * n_cols + int(np.argmin(np.abs(u)))][2])
    cavity_center = np.array([0.0, MOUTH_Y - 0.003, mouth_z - 0.014])
    add(*_cavity(cavity_center), CAVITY)
    add(*_teeth(mouth_z, upper=True), TEETH_UPPER)
    add(*_teeth(mouth_z, upper=False), TEETH_LOWER)

    vertices = np.concatenate(vertices)
    vertex_part = np.concatenate(parts).astype(np.int8)
    skin_u = np.full(len(vertices), np.nan)
    skin_u[:pole] = np.tile(u, n_rows)
    skin_u[pole] = np.pi
    skin_u[pole + 1: pole + 1 + len(slit)] = skin_u[slit]
    eye_rho = np.full((2, len(vertices)), np.inf)
    front_face = np.where(cos_flat > 0.3, 0.0, np.inf)  # the back of the head is never near an eye
    for k, side in enumerate((1.0, -1.0)):
        eye_rho[k, :pole] = eye_opening_radius(unwrapped[:, 0], unwrapped[:, 1], side) + front_face
        eye_rho[k, pole + 1: pole + 1 + len(slit)] = eye_rho[k, slit]
    lower_lip = np.zeros(len(vertices), bool)
    lower_lip[pole + 1: pole + 1 + len(slit)] = True

    j_neck = int(np.argmin(np.abs(rows + 0.13)))
    j_jaw = int(np.argmin(np.abs(rows - JAW_PIVOT[1])))
    side_cols = [int(np.argmin(np.abs(u - np.pi / 2))), int(np.argmin(np.abs(u + np.pi / 2)))]
    return DemoMesh(
        vertices=vertices,
        faces=np.concatenate(faces).astype(np.int32),
        vertex_part=vertex_part,
        face_part=np.concatenate(face_parts).astype(np.int8),
        skin_u=skin_u,
        lower_lip=lower_lip,
        eye_centers=centers,
        eye_rho=eye_rho,
        mouth_front_z=mouth_z,
        neck_ring=j_neck * n_cols + np.arange(n_cols),
        bottom_ring=(n_rows - 1) * n_cols + np.arange(n_cols),
        jaw_anchor=np.array([j_jaw * n_cols + c for c in side_cols]),
    )


def _cavity(center):
    """Back half of an ellipsoid behind the teeth: the inside of the mouth."""
    lon = np.linspace(-np.pi / 2, np.pi / 2, 17)
    lat = np.linspace(-0.45 * np.pi, 0.45 * np.pi, 13)
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    radii = np.array([0.022, 0.016, 0.02])
    p = np.stack([np.sin(lo) * np.cos(la), np.sin(la), -np.cos(lo) * np.cos(la)], axis=-1) * radii + center
    return p.reshape(-1, 3), _grid_faces(13, 17, wrap=False)


def _teeth(mouth_z, upper):
    """A curved strip following the dental arch just behind the lips."""
    x = np.linspace(-0.019, 0.019, 15)
    ys = np.sort(np.array([0.0015, 0.0055, 0.0095]) * (1 if upper else -1) + MOUTH_Y)[::-1]  # top -> bottom
    xx, yy = np.meshgrid(x, ys)
    zz = mouth_z - 0.0065 - 22.0 * xx ** 2
    p = np.stack([xx, yy, zz], axis=-1)
    return p.reshape(-1, 3), _grid_faces(3, 15, wrap=False)
