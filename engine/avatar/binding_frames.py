"""Per-triangle binding frames (GaussianAvatars' parameterisation, DESIGN.md §5).

For triangle (v0, v1, v2):
- ``T`` is the centroid,
- ``R`` has columns ``a0 = normalise(v1 - v0)`` (first edge), ``a1 = normalise(a0 x (v2 - v0))``
  (face normal) and ``a2 = a0 x a1`` (their cross product), a proper rotation,
- ``k`` is the mean of the first-edge length and the triangle height over that edge.

A Gaussian bound to the triangle with local mean ``mu``, rotation ``q`` and log-scale ``s`` is at
``k R mu + T`` with rotation ``R R(q)`` and scale ``k exp(s)``. The prepare stage implements the same
equations in numba; this numpy version is the reference used by the generator and the tests.
"""

from __future__ import annotations

import numpy as np


def triangle_frames(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(T (F,3), R (F,3,3), k (F,))`` for every triangle, in the dtype of ``vertices``."""
    v0 = vertices[faces[:, 0]]
    v1 = vertices[faces[:, 1]]
    v2 = vertices[faces[:, 2]]
    centroid = (v0 + v1 + v2) / 3.0
    edge = v1 - v0
    edge_len = np.linalg.norm(edge, axis=1)
    a0 = edge / edge_len[:, None]
    cross = np.cross(a0, v2 - v0)
    height = np.linalg.norm(cross, axis=1)  # |a0 x (v2 - v0)| is the height over the first edge
    a1 = cross / height[:, None]
    a2 = np.cross(a0, a1)
    rot = np.stack([a0, a1, a2], axis=2)  # columns
    scale = 0.5 * (edge_len + height)
    return centroid, rot, scale


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    """Rotation matrices (N,3,3) of unit quaternions (N,4) stored (w, x, y, z)."""
    w, x, y, z = q[:, 0], q[:, 1], q[:, 2], q[:, 3]
    m = np.empty((q.shape[0], 3, 3), dtype=q.dtype)
    m[:, 0, 0] = 1 - 2 * (y * y + z * z)
    m[:, 0, 1] = 2 * (x * y - w * z)
    m[:, 0, 2] = 2 * (x * z + w * y)
    m[:, 1, 0] = 2 * (x * y + w * z)
    m[:, 1, 1] = 1 - 2 * (x * x + z * z)
    m[:, 1, 2] = 2 * (y * z - w * x)
    m[:, 2, 0] = 2 * (x * z - w * y)
    m[:, 2, 1] = 2 * (y * z + w * x)
    m[:, 2, 2] = 1 - 2 * (x * x + y * y)
    return m


def bind_to_world(vertices, faces, parent, local_xyz, local_rot, local_log_scale):
    """World means (N,3), rotation matrices (N,3,3) and scales (N,3) of bound Gaussians."""
    centroid, rot, scale = triangle_frames(vertices, faces)
    r = rot[parent]
    k = scale[parent]
    means = k[:, None] * np.einsum("nij,nj->ni", r, local_xyz) + centroid[parent]
    rotations = r @ quat_to_matrix(local_rot)
    scales = k[:, None] * np.exp(local_log_scale)
    return means, rotations, scales


def world_to_local(points: np.ndarray, tri: np.ndarray, centroid, rot, scale) -> np.ndarray:
    """Local positions (units of k) of world ``points`` in the frames of triangles ``tri``."""
    d = points - centroid[tri]
    return np.einsum("nji,nj->ni", rot[tri], d) / scale[tri][:, None]
