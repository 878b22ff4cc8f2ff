"""Regenerate the procedural demo avatar package (deterministic: the same seed gives the same content)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", nargs="?", default=None,
                        help="package directory to write, or a path ending in .zip (default: the bundled "
                             "package inside the engine, engine/avatar/bundled/demo)")
    parser.add_argument("--seed", type=int, default=None, help="generator seed (default: the demo's own)")
    parser.add_argument("--no-compressed", action="store_true", help="leave out gaussians_compressed.npz")


def run(args: argparse.Namespace) -> int:
    from ..avatar.demo.build import DEMO_SEED, make_demo_avatar
    from ..avatar.package import BUNDLED_DIR, write_package, write_package_zip

    seed = DEMO_SEED if args.seed is None else args.seed
    avatar = make_demo_avatar(seed)
    out = Path(args.out) if args.out else BUNDLED_DIR / "demo"
    write = write_package_zip if out.suffix == ".zip" else write_package
    manifest = write(avatar, out, compressed=not args.no_compressed)
    total = sum(e.size for e in manifest.assets.values())
    print(f"wrote {out}: {manifest.vertex_count} vertices, {manifest.face_count} triangles, "
          f"{manifest.expression_count} expressions, {manifest.gaussian_count} Gaussians, {total / 1e6:.2f} MB; "
          f"content {manifest.content_hash[:16]}")
    return 0
