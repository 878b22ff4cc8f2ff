"""In-memory avatar data: the FLAME-compatible head model and the bound Gaussian set.

Arrays are C-contiguous; the loader validates every shape, dtype and range, so
code downstream (numba kernels) can trust them.
"""

from __future__ import annotations

import attrs
import numpy as np

JOINT_PARENTS = np.array([-1, 0, 1, 1, 1], dtype=np.int32)  # root, neck, jaw, left eye, right eye
JOINT_NAMES = ("root", "neck", "jaw", "eye_left", "eye_right")
POSE_CORRECTIVES = 36  # (4 non-root joints) x 9 entries of (R - I)


@attrs.frozen(eq=False)
class HeadModel:
    """FLAME-compatible head with the avatar's shape already applied.

    V vertices, F triangles, E expression blendshapes (E <= 100), 5 joints.
    - ``v_template``  float32 (V, 3)   shaped template, metres, OpenCV-free model space (+y up, +z front)
    - ``faces``       int32   (F, 3)
    - ``expr_dirs``   float32 (E, V, 3) expression blendshapes
    - ``eyelid_dirs`` float32 (2, V, 3) left, right eyelid-closing blendshapes
    - ``pose_dirs``   float32 (36, V, 3) pose correctives, FLAME order: for joints 1..4, (R - I) row-major
    - ``j_regressor`` float32 (5, V)   joints = j_regressor @ (template + blendshapes)
    - ``weights``     float32 (V, 5)   skinning weights, rows sum to 1
    - ``parents``     int32   (5,)     always [-1, 0, 1, 1, 1]
    """

    v_template: np.ndarray
    faces: np.ndarray
    expr_dirs: np.ndarray
    eyelid_dirs: np.ndarray
    pose_dirs: np.ndarray
    j_regressor: np.ndarray
    weights: np.ndarray
    parents: np.ndarray = attrs.field(factory=lambda: JOINT_PARENTS.copy())

    @property
    def vertex_count(self) -> int:
        return int(self.v_template.shape[0])

    @property
    def expression_count(self) -> int:
        return int(self.expr_dirs.shape[0])


@attrs.frozen(eq=False)
class GaussianSet:
    """Gaussians bound to head triangles (GaussianAvatars' parameterisation). N Gaussians.

    - ``parent``      int32   (N,)   index of the parent triangle in ``HeadModel.faces``
    - ``local_xyz``   float32 (N, 3) position in the triangle's frame, in units of its scale k
    - ``local_rot``   float32 (N, 4) unit quaternion (w, x, y, z) in the triangle's frame
    - ``local_log_scale`` float32 (N, 3) log of the scale in units of k
    - ``opacity``     float32 (N,)   in [0, 1]
    - ``color``       float32 (N, 3) RGB in [0, 1] (SH degree 0)
    - ``sh``          float32 (N, (d+1)², 3) or None: real spherical-harmonic coefficients of degree d ≤ 3
      (3D Gaussian Splatting's basis and order, DC first), for view-dependent colour; ``color`` is their
      degree-0 value, used where SH is off
    """

    parent: np.ndarray
    local_xyz: np.ndarray
    local_rot: np.ndarray
    local_log_scale: np.ndarray
    opacity: np.ndarray
    color: np.ndarray
    sh: np.ndarray | None = None

    @property
    def count(self) -> int:
        return int(self.parent.shape[0])

    @property
    def sh_degree(self) -> int:
        """Degree of ``sh`` (0 without SH coefficients)."""
        return 0 if self.sh is None else int(round(self.sh.shape[1] ** 0.5)) - 1


@attrs.frozen
class CameraConfig:
    """A pinhole camera looking from ``position`` at ``target``; ``fov`` is vertical, degrees."""

    position: tuple[float, float, float] = (0.0, 0.0, 0.6)
    target: tuple[float, float, float] = (0.0, 0.0, 0.0)
    fov: float = 30.0
    near: float = 0.01
    far: float = 100.0
    up: tuple[float, float, float] = (0.0, 1.0, 0.0)
