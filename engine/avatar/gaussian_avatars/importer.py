"""``import_gaussian_avatars``: a trained GaussianAvatars run + the user's FLAME model → a Facecast avatar.

The head is rebuilt exactly as the run was trained on it — FLAME plus GaussianAvatars' teeth
(``teeth.py``), the tracked shape and static offset baked into the template — so each Gaussian's
``binding_0`` names the same triangle and its local position, rotation and log-scale carry over
unchanged (GaussianAvatars' and Facecast's binding equations are the same, DESIGN.md §5).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import attrs
import numpy as np

from ...errors import AvatarError, ErrorCode
from ...motion import layout
from ..avatar import Avatar
from ..flame import FLAME_SHAPE_COUNT, flame_head, read_flame_file
from ..manifest import ID_PATTERN
from ..model import CameraConfig, HeadModel
from ..package import write_package, write_package_zip
from ..rig import posed_vertices, rodrigues
from .motion import idle_from_keyframes, keyframes_from_flame_params
from .run import FlameParams, check_binding, find_point_cloud, read_flame_params, read_gaussians, run_file_error
from .teeth import FLAME_VERTEX_COUNT, TEETH_VERTEX_COUNT, add_teeth

CAMERA_FOV = 30.0
FRAME_MARGIN = 1.2  # the head's bounding box fills 1/1.2 of the view


def gaussian_avatars_flame(flame_path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The user's FLAME model (``.pkl`` or converted ``.npz``) with GaussianAvatars' teeth added (V = 5143)."""
    arrays = read_flame_file(flame_path)
    n = arrays["v_template"].shape[0]
    if n != FLAME_VERTEX_COUNT:
        raise run_file_error(str(flame_path), f"has {n} vertices; GaussianAvatars' teeth are built on FLAME's "
                                    f"{FLAME_VERTEX_COUNT}-vertex topology (FLAME 2020 or 2023)")
    return add_teeth(arrays, FLAME_SHAPE_COUNT)


def head_for_run(flame: dict[str, np.ndarray], params: FlameParams, what: str) -> HeadModel:
    """The trained-on head: template + shape blendshapes + static offset, E expressions of the sequence."""
    e = params.expr.shape[1]
    available = flame["shapedirs"].shape[2] - FLAME_SHAPE_COUNT
    if available < e:
        raise run_file_error(what, f"expr has {e} coefficients but the FLAME model has only {available} expression "
                         "components; use the FLAME version the run was trained with (FLAME 2023 has 100)")
    baked = dict(flame, v_template=flame["v_template"] + params.static_offset)
    return flame_head(baked, params.shape, expression_count=e, what=what)


def frame_camera(head: HeadModel, pose: np.ndarray) -> CameraConfig:
    """A camera in front of the face (FLAME faces +z, turned with the pose's global rotation), framing the head."""
    verts = posed_vertices(head, pose)[:FLAME_VERTEX_COUNT]
    rot = rodrigues(pose[layout.ROTATION])
    forward, up = rot @ np.array([0.0, 0.0, 1.0]), rot @ np.array([0.0, 1.0, 0.0])
    local = (verts - verts.mean(axis=0)) @ rot  # the head's extent in its own frame
    lo, hi = local.min(axis=0), local.max(axis=0)
    centre = verts.mean(axis=0) + rot @ (0.5 * (lo + hi))
    half = 0.5 * float(max(hi[0] - lo[0], hi[1] - lo[1]))
    distance = FRAME_MARGIN * half / math.tan(math.radians(CAMERA_FOV) / 2) + 0.5 * float(hi[2] - lo[2])
    position = centre + forward * distance
    return CameraConfig(position=tuple(float(c) for c in position), target=tuple(float(c) for c in centre),
                        up=tuple(float(c) for c in up), fov=CAMERA_FOV, near=max(1e-3, 0.05 * distance),
                        far=100.0 * distance)


def import_gaussian_avatars(run_dir: str | os.PathLike, flame_path: str | os.PathLike,
                            output: str | os.PathLike | None = None, avatar_id: str | None = None,
                            name: str | None = None) -> Avatar:
    """Build (and with ``output`` write, as a directory or ``.zip``) the avatar of a GaussianAvatars run.

    ``run_dir`` holds ``point_cloud.ply`` and ``flame_param.npz`` (or ``point_cloud/iteration_<n>/``
    with both); every defect is ``AvatarError(invalidAvatarMetadata)`` naming the file and field.
    """
    ply = find_point_cloud(run_dir)
    params_path = ply.parent / "flame_param.npz"
    if not params_path.is_file() and (Path(run_dir) / "flame_param.npz").is_file():
        params_path = Path(run_dir) / "flame_param.npz"
    # the run's own files first: they fail fast, before the (large) FLAME model is read
    params = read_flame_params(params_path, FLAME_VERTEX_COUNT + TEETH_VERTEX_COUNT)
    gaussians = read_gaussians(ply)
    flame = gaussian_avatars_flame(flame_path)
    check_binding(gaussians, flame["f"].shape[0], str(ply))
    head = head_for_run(flame, params, str(params_path))
    keyframes = keyframes_from_flame_params(params)
    idle = idle_from_keyframes(keyframes)
    if np.abs(idle).max() > 10.0:
        raise run_file_error(str(params_path), "the tracked poses leave ±10 (radians, metres, expression weights); "
                                     "the sequence is not a FLAME tracking in metres")
    default_id = Path(run_dir).resolve().name
    avatar_id = avatar_id or (default_id if ID_PATTERN.match(default_id) else "imported")
    if not ID_PATTERN.match(avatar_id):
        raise AvatarError(ErrorCode.invalidAvatarMetadata,
                          f"avatar id {avatar_id!r} must be 1-64 letters, digits, '_', '.' or '-'")
    avatar = Avatar(id=avatar_id, name=name or f"GaussianAvatars {avatar_id}", head=head, gaussians=gaussians,
                    idle=idle, camera=frame_camera(head, idle[0]), motion_fps=layout.MOTION_FPS)
    if output is not None:
        out = Path(output)
        manifest = (write_package_zip if out.suffix == ".zip" else write_package)(avatar, out)
        avatar = attrs.evolve(avatar, content_hash=manifest.content_hash)
    return avatar


def motion_of_run(flame_param_path: str | os.PathLike, expression_count: int | None = None) -> np.ndarray:
    """The tracked sequence of ``flame_param.npz`` as engine keyframes (for replay on an imported avatar)."""
    params = read_flame_params(Path(flame_param_path), FLAME_VERTEX_COUNT + TEETH_VERTEX_COUNT)
    return keyframes_from_flame_params(params, expression_count)
