"""Render an avatar offscreen: one frame to a PNG (`facecast render --avatar demo --out face.png`), or a tracked
FLAME sequence re-enacted to a video (`facecast render AVATAR --motion flame_param.npz --output out.mp4`)."""

from __future__ import annotations

from pathlib import Path


def add_arguments(parser) -> None:
    parser.add_argument("avatar_pos", nargs="?", metavar="AVATAR", default=None,
                        help="bundled avatar id or path to a package (same as --avatar)")
    parser.add_argument("--avatar", default=None, help="bundled avatar id or path to a package (default: demo)")
    parser.add_argument("--backend", default=None, help="renderer: cpu, wgpu, opengl or a plugin's (default: auto)")
    parser.add_argument("--out", "--output", dest="out", default=None,
                        help="file to write: a PNG (default avatar.png), or a video with --motion (default out.mp4)")
    parser.add_argument("--motion", default=None,
                        help="replay a tracked FLAME sequence (GaussianAvatars' flame_param.npz), "
                             "one frame per keyframe")
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--height", type=int, default=512)
    parser.add_argument("--quality", choices=("standard", "high", "ultra"), default=None)


def _load(avatar: str):
    from ..avatar import load_bundled, load_package

    path = Path(avatar)
    return load_package(path) if path.exists() else load_bundled(avatar)


def _replay(avatar, args) -> int:
    import time

    from ..avatar.gaussian_avatars import frame_camera, motion_of_run
    from ..demo.progress import Progress
    from ..render.quality import sh_degree
    from ..demo.replay import replay_motion

    keyframes = motion_of_run(args.motion, avatar.expression_count)
    # tracked poses keep the tracker's world placement: frame the head where the sequence starts
    camera = frame_camera(avatar.head, keyframes[0])
    out = args.out or "out.mp4"
    degree = sh_degree(args.quality) if args.quality else None
    t0 = time.perf_counter()

    bar = Progress(len(keyframes))
    try:
        frames = replay_motion(avatar, keyframes, out, args.width, args.height, backend=args.backend,
                               sh_degree=degree, camera=camera, on_frame=lambda done, total: bar.update(done))
    finally:
        bar.close()
    print(f"wrote {out}: {frames} frames of {args.motion} at 25 fps, {args.width}×{args.height}, "
          f"in {time.perf_counter() - t0:.1f} s")
    return 0


def run(args) -> int:
    import asyncio
    import sys
    import time

    from .. import AvatarSDK, Configuration
    from ..render.containers import Offscreen
    from ..render.view import AvatarView

    avatar = _load(args.avatar_pos or args.avatar or "demo")
    if args.motion:
        return _replay(avatar, args)
    out = args.out or "avatar.png"
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
        Path(out).write_bytes(png)
        size = view.render_size
        rect = view.get_bounding_rect()
        bounds = "none" if rect is None else f"x={rect.x:.0f} y={rect.y:.0f} w={rect.width:.0f} h={rect.height:.0f}"
        print(f"wrote {out}: {size.width}×{size.height} PNG (transparent background) via {view.backend} "
              f"in {elapsed * 1e3:.0f} ms; avatar bounds {bounds}")
    finally:
        view.dispose()
    return 0
