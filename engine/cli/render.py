"""Render one frame of an avatar offscreen to a PNG (e.g. `facecast render --avatar demo --out face.png`)."""

from __future__ import annotations

from pathlib import Path


def add_arguments(parser) -> None:
    parser.add_argument("--avatar", default="demo", help="bundled avatar id or path to a package (default: demo)")
    parser.add_argument("--backend", default=None, help="renderer: cpu, wgpu, opengl or a plugin's (default: auto)")
    parser.add_argument("--out", default="avatar.png", help="PNG file to write (default: avatar.png)")
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--height", type=int, default=512)
    parser.add_argument("--quality", choices=("standard", "high", "ultra"), default=None)


def _load(avatar: str):
    from ..avatar import load_bundled, load_package

    path = Path(avatar)
    return load_package(path) if path.exists() else load_bundled(avatar)


def run(args) -> int:
    import asyncio
    import sys
    import time

    from .. import AvatarSDK, Configuration
    from ..render.containers import Offscreen
    from ..render.view import AvatarView

    avatar = _load(args.avatar)
    if args.quality:
        asyncio.run(AvatarSDK.initialize("facecast-cli", Configuration(render_quality=args.quality)))
    view = AvatarView(avatar, Offscreen(args.width, args.height), backend=args.backend)
    try:
        t0 = time.perf_counter()
        png = view.export_bitmap(timeout=120)
        elapsed = time.perf_counter() - t0
        if png is None:
            print(f"facecast render: the {view.backend} renderer produced no frame", file=sys.stderr)
            return 1
        Path(args.out).write_bytes(png)
        size = view.render_size
        rect = view.get_bounding_rect()
        bounds = "none" if rect is None else f"x={rect.x:.0f} y={rect.y:.0f} w={rect.width:.0f} h={rect.height:.0f}"
        print(f"wrote {args.out}: {size.width}×{size.height} PNG (transparent background) via {view.backend} "
              f"in {elapsed * 1e3:.0f} ms; avatar bounds {bounds}")
    finally:
        view.dispose()
    return 0
