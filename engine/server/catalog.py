"""Which avatar packages this server can serve: ``<root>/<avatar id>/manifest.json`` under a few roots.

Roots, first match wins: ``<data dir>/avatars`` (avatars the operator installed), then the
packages shipped inside ``engine/avatar/bundled`` (the ``demo`` avatar).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

AVATAR_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def bundled_avatars_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "avatar" / "bundled"


class AvatarCatalog:
    def __init__(self, roots: Sequence[Path | str]) -> None:
        self.roots = [Path(r) for r in roots]

    @classmethod
    def default(cls, data_dir: Path) -> "AvatarCatalog":
        return cls([Path(data_dir) / "avatars", bundled_avatars_dir()])

    def package_dir(self, avatar_id: str) -> Path | None:
        """The package directory of ``avatar_id``, or None; ids are plain names, never paths."""
        if not AVATAR_ID_RE.match(avatar_id or ""):
            return None
        for root in self.roots:
            candidate = root / avatar_id
            if (candidate / "manifest.json").is_file():
                return candidate
        return None

    def manifest(self, avatar_id: str) -> dict | None:
        package = self.package_dir(avatar_id)
        if package is None:
            return None
        from ..avatar.files import read_regular  # the package format is the avatar module's job
        from ..avatar.package import MAX_MANIFEST_BYTES
        from ..errors import AvatarError

        try:
            data = json.loads(read_regular(package / "manifest.json", MAX_MANIFEST_BYTES, avatar_id))
        except (AvatarError, ValueError, RecursionError):  # not JSON, or nested past the parser's limit
            return None
        return data if isinstance(data, dict) else None

    def mouth_shapes(self, avatar_id: str) -> dict | None:
        """The manifest's ``mouth_shapes`` (engine.avatar.mouth; checked when the package was added), or None."""
        manifest = self.manifest(avatar_id)
        shapes = manifest.get("mouth_shapes") if manifest is not None else None
        return shapes if isinstance(shapes, dict) else None

    def expression_count(self, avatar_id: str) -> int | None:
        """E of the avatar's head model (keyframes carry 20 + E values), or None if unknown/unreadable."""
        manifest = self.manifest(avatar_id)
        if manifest is None:
            return None
        count = manifest.get("expression_count")
        return count if isinstance(count, int) and not isinstance(count, bool) and 0 <= count <= 100 else None
