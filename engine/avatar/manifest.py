"""``manifest.json`` of an avatar package: parsing with full validation, and building one.

The schema is documented in docs/avatar-format.md.
"""

from __future__ import annotations

import hashlib
import json
import math
import re

import attrs

from ..errors import AvatarError, ErrorCode
from ..motion import layout
from .model import CameraConfig
from .mouth import validate_mouth_shapes

FORMAT = "facecast.avatar"
FORMAT_VERSION = 1
HEAD, GAUSSIANS, IDLE, GAUSSIANS_COMPRESSED = "head.npz", "gaussians.npz", "idle.npz", "gaussians_compressed.npz"
SH = "sh.npz"  # spherical-harmonic colour coefficients; present exactly when sh_degree > 0
MAX_SH_DEGREE = 3
REQUIRED_ASSETS = (HEAD, GAUSSIANS, IDLE)
OPTIONAL_ASSETS = (GAUSSIANS_COMPRESSED, SH)
MAX_ASSET_BYTES = 512 << 20
MAX_VERTICES = 1 << 20
MAX_GAUSSIANS = 4 << 20
MAX_IDLE_FRAMES = 25 * 600
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@attrs.frozen
class AssetEntry:
    size: int
    sha256: str  # of the file's bytes
    arrays_sha256: str  # of its decoded arrays (npzio.arrays_digest)


@attrs.frozen
class Manifest:
    id: str
    name: str
    motion_fps: int
    expression_count: int
    vertex_count: int
    face_count: int
    gaussian_count: int
    idle_frames: int
    camera: CameraConfig
    assets: dict[str, AssetEntry]
    sh_degree: int = 0
    mouth_shapes: dict[str, dict[int, float]] | None = None  # engine.avatar.mouth; None: the avatar says nothing

    @property
    def content_hash(self) -> str:
        """Identifies the avatar's content: a digest of every asset's array digest."""
        h = hashlib.sha256()
        for name in sorted(self.assets):
            h.update(f"{name}={self.assets[name].arrays_sha256};".encode())
        return h.hexdigest()

    def to_dict(self) -> dict:
        cam = self.camera
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "id": self.id,
            "name": self.name,
            "motion_fps": self.motion_fps,
            "expression_count": self.expression_count,
            "vertex_count": self.vertex_count,
            "face_count": self.face_count,
            "gaussian_count": self.gaussian_count,
            "idle_frames": self.idle_frames,
            "camera": {"position": list(cam.position), "target": list(cam.target), "up": list(cam.up),
                       "fov": cam.fov, "near": cam.near, "far": cam.far},
            "assets": {n: attrs.asdict(e) for n, e in sorted(self.assets.items())},
            **({"sh_degree": self.sh_degree} if self.sh_degree else {}),  # absent = 0: older packages unchanged
            **({"mouth_shapes": {name: {str(i): w for i, w in row.items()} for name, row in self.mouth_shapes.items()}}
               if self.mouth_shapes is not None else {}),
        }


def _manifest_error(message: str) -> AvatarError:
    return AvatarError(ErrorCode.invalidAvatarMetadata, f"manifest.json: {message}")


def _int(d: dict, key: str, lo: int, hi: int) -> int:
    v = d.get(key)
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise _manifest_error(f"{key!r} must be an integer in {lo}..{hi}, not {v!r}")
    return v


def _num(d: dict, key: str, lo: float, hi: float) -> float:
    v = d.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not lo <= v <= hi:
        raise _manifest_error(f"camera.{key} must be a number in {lo}..{hi}, not {v!r}")
    return float(v)


def _vec3(d: dict, key: str) -> tuple[float, float, float]:
    v = d.get(key)
    if (not isinstance(v, list) or len(v) != 3
            or not all(isinstance(c, (int, float)) and not isinstance(c, bool) and math.isfinite(c) for c in v)):
        raise _manifest_error(f"camera.{key} must be a list of 3 finite numbers, not {v!r}")
    return (float(v[0]), float(v[1]), float(v[2]))


def _camera(d) -> CameraConfig:
    if not isinstance(d, dict):
        raise _manifest_error(f"'camera' must be an object, not {d!r}")
    cam = CameraConfig(position=_vec3(d, "position"), target=_vec3(d, "target"),
                       up=_vec3(d, "up") if "up" in d else (0.0, 1.0, 0.0),
                       fov=_num(d, "fov", 1.0, 170.0), near=_num(d, "near", 1e-6, 1e3), far=_num(d, "far", 1e-5, 1e6))
    if cam.far <= cam.near:
        raise _manifest_error(f"camera.far ({cam.far}) must be greater than camera.near ({cam.near})")
    if cam.position == cam.target:
        raise _manifest_error("camera.position and camera.target must differ")
    return cam


def _assets(d) -> dict[str, AssetEntry]:
    if not isinstance(d, dict):
        raise _manifest_error("'assets' must be an object mapping file names to {size, sha256, arrays_sha256}, "
                              f"not {d!r}")
    missing = [n for n in REQUIRED_ASSETS if n not in d]
    if missing:
        raise _manifest_error(f"assets lack {', '.join(missing)}; every package has {', '.join(REQUIRED_ASSETS)}")
    unknown = sorted(set(d) - set(REQUIRED_ASSETS) - set(OPTIONAL_ASSETS))
    if unknown:
        raise _manifest_error(f"unknown assets {unknown}; allowed: {', '.join(REQUIRED_ASSETS + OPTIONAL_ASSETS)}")
    out = {}
    for name, entry in d.items():
        if not isinstance(entry, dict):
            raise _manifest_error(f"assets[{name!r}] must be an object")
        size = entry.get("size")
        if isinstance(size, bool) or not isinstance(size, int) or not 0 < size <= MAX_ASSET_BYTES:
            raise _manifest_error(f"assets[{name!r}].size must be a byte count in 1..{MAX_ASSET_BYTES}, not {size!r}")
        for key in ("sha256", "arrays_sha256"):
            if not isinstance(entry.get(key), str) or not _HEX64.match(entry[key]):
                raise _manifest_error(f"assets[{name!r}].{key} must be 64 lowercase hex digits, not {entry.get(key)!r}")
        out[name] = AssetEntry(size=size, sha256=entry["sha256"], arrays_sha256=entry["arrays_sha256"])
    return out


def parse_manifest(data: bytes | bytearray | str | dict) -> Manifest:
    """Validate a manifest (raw JSON or already parsed) and return it; ``invalidAvatarMetadata`` if wrong."""
    if isinstance(data, (bytes, bytearray, str)):
        try:
            data = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise _manifest_error(f"not valid JSON ({exc})") from None
        except RecursionError:
            raise _manifest_error("JSON nested too deeply to parse; "
                                  "a manifest is a flat object of a few levels") from None
    if not isinstance(data, dict):
        raise _manifest_error("must be a JSON object")
    if data.get("format") != FORMAT:
        raise _manifest_error(f"'format' must be {FORMAT!r}, not {data.get('format')!r}")
    if data.get("format_version") != FORMAT_VERSION:
        raise _manifest_error(f"format_version {data.get('format_version')!r} is not supported; this engine reads "
                              f"version {FORMAT_VERSION} (upgrade facecast or re-export the avatar)")
    avatar_id = data.get("id")
    if not isinstance(avatar_id, str) or not ID_PATTERN.match(avatar_id):
        raise _manifest_error(f"'id' must be 1-64 characters of letters, digits, '_', '.', '-' (not starting with a "
                              f"symbol), not {avatar_id!r}")
    name = data.get("name")
    if not isinstance(name, str) or not 0 < len(name) <= 200:
        raise _manifest_error(f"'name' must be a non-empty string of at most 200 characters, not {name!r}")
    if data.get("motion_fps") != layout.MOTION_FPS or isinstance(data.get("motion_fps"), bool):
        raise _manifest_error(f"'motion_fps' must be {layout.MOTION_FPS}, not {data.get('motion_fps')!r}")
    sh_degree = _int(data, "sh_degree", 0, MAX_SH_DEGREE) if "sh_degree" in data else 0
    assets = _assets(data.get("assets"))
    if (sh_degree > 0) != (SH in assets):
        raise _manifest_error(f"sh_degree is {sh_degree} but {SH} is {'listed' if SH in assets else 'missing'}; "
                              f"a package carries {SH} exactly when sh_degree is 1..{MAX_SH_DEGREE}")
    expression_count = _int(data, "expression_count", 0, layout.MAX_EXPRESSIONS)
    mouth_shapes = None
    if "mouth_shapes" in data:
        try:
            mouth_shapes = validate_mouth_shapes(data["mouth_shapes"], expression_count)
        except AvatarError as exc:
            raise _manifest_error(exc.message) from None
    return Manifest(
        id=avatar_id,
        name=name,
        motion_fps=layout.MOTION_FPS,
        expression_count=expression_count,
        vertex_count=_int(data, "vertex_count", 3, MAX_VERTICES),
        face_count=_int(data, "face_count", 1, 2 * MAX_VERTICES),
        gaussian_count=_int(data, "gaussian_count", 1, MAX_GAUSSIANS),
        idle_frames=_int(data, "idle_frames", 1, MAX_IDLE_FRAMES),
        camera=_camera(data.get("camera")),
        assets=assets,
        sh_degree=sh_degree,
        mouth_shapes=mouth_shapes,
    )


def manifest_json(manifest: Manifest) -> bytes:
    """Canonical, human-readable JSON bytes of ``manifest``."""
    return (json.dumps(manifest.to_dict(), indent=2, sort_keys=False) + "\n").encode()
