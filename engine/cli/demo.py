"""Talk with the demo avatar: starts an embedded Motion Server in this process, loads the demo avatar and
plays speech through the direct (WebSocket) path with lip-synced motion.

With a display it opens a window and plays through the audio device (or, without a sound card, on a
silent real-time clock, and says so); the window stays open with the avatar idling until it is closed
or Esc / Q / Ctrl-C: R, space or Enter speaks again, and an audio file dropped on the window or a path
typed on stdin is spoken. With --output, or when there is no display, it renders offline to a video
file (H.264 + AAC) whose frames are locked to the audio.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

DEFAULT_OUTPUT = "facecast-demo.mp4"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("speech", nargs="?", type=Path, default=None,
                        help="an audio file to speak (any format FFmpeg reads; default: the shipped clip)")
    parser.add_argument("--output", "-o", type=Path, default=None,
                        help=f"write a video instead of opening a window (default without a display: {DEFAULT_OUTPUT})")
    parser.add_argument("--size", type=int, default=512, help="frame width and height in pixels (even; default 512)")
    parser.add_argument("--fps", type=int, default=25, help="video frame rate (default 25)")
    parser.add_argument("--backend", default=None, help="render backend (cpu, wgpu, opengl; default: automatic)")
    parser.add_argument("--host", default="127.0.0.1", help="where the embedded server listens (default loopback)")
    parser.add_argument("--port", type=int, default=0, help="embedded server port (default: a free one)")


def _has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


async def _offline(args, stack, pcm, rate, output: Path) -> int:
    from ..demo.offline import frame_count, render_to_file
    from ..demo.progress import Progress

    progress = Progress(frame_count(pcm.size, rate, args.fps))
    try:
        made = await render_to_file(stack.avatar, pcm, rate, output, size=args.size, fps=args.fps,
                                    backend=args.backend, on_frame=progress.update)
    finally:
        progress.close()
    result, seconds = made.result, made.seconds
    print(f"wrote {output}: {result.frames} frames, {result.seconds:.2f} s of audio ({made.codec} + aac), "
          f"made in {seconds:.1f} s ({result.frames / max(seconds, 1e-9):.1f} fps, "
          f"{result.seconds / max(seconds, 1e-9):.2f}× real time) on the {made.backend} backend")
    return 0


async def _live(args, stack, pcm, rate) -> int:
    from ..demo.audio import load_speech
    from ..demo.live import LiveApp
    from ..demo.video import use_demo_background
    from ..render.containers import Window
    from ..render.view import AvatarView

    view = AvatarView(stack.avatar, Window(args.size, args.size, "Facecast demo"), backend=args.backend)
    use_demo_background(view)
    app = LiveApp(view, rate, lambda path: load_speech(path, rate)[0], commands=sys.stdin)
    try:
        summary = await app.run(pcm)
    finally:
        view.dispose()
    print(f"{summary.reason}: spoke {summary.spoken} clip(s), {summary.seconds:.1f} s of speech")
    return 0


async def _demo(args) -> int:
    from ..demo import SPEECH_CLIP
    from ..demo.audio import load_speech
    from ..demo.stack import DemoStack

    speech = args.speech or SPEECH_CLIP
    pcm, rate = load_speech(speech)
    offline = args.output is not None or not _has_display()
    output = args.output or Path(DEFAULT_OUTPUT)
    print(f"speech: {speech} ({pcm.size / rate:.2f} s at {rate} Hz)")
    async with DemoStack(rate, host=args.host, port=args.port) as stack:
        print(f"embedded Motion Server on {stack.server.base_url}; avatar {stack.avatar.id!r} loaded")
        if offline:
            if args.output is None:
                print(f"no display: rendering to {output} instead of a window")
            return await _offline(args, stack, pcm, rate, output)
        return await _live(args, stack, pcm, rate)


def quiet_runtime_dir() -> None:
    """Give libraries a private, empty XDG_RUNTIME_DIR when the session has none.

    Without one, the Wayland client (probed by the Vulkan driver) and PulseAudio each print
    "XDG_RUNTIME_DIR is invalid or not set" on start-up; with an empty private one they quietly find no
    server, as they would have anyway.
    """
    current = os.environ.get("XDG_RUNTIME_DIR")
    if current and os.path.isdir(current) and os.access(current, os.W_OK):
        return
    import atexit
    import shutil
    import tempfile

    path = tempfile.mkdtemp(prefix="facecast-runtime-")  # mode 0700, as the spec asks
    os.environ["XDG_RUNTIME_DIR"] = path
    atexit.register(shutil.rmtree, path, True)


def run(args: argparse.Namespace) -> int:
    quiet_runtime_dir()
    if args.size < 16 or args.size % 2:
        print("facecast demo: --size must be an even number of pixels >= 16", file=sys.stderr)
        return 2
    if not 1 <= args.fps <= 120:
        print("facecast demo: --fps must be 1..120", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_demo(args))
    except KeyboardInterrupt:  # Ctrl-C: the window, audio and server were released on the way out
        print("\ninterrupted: the demo has stopped", file=sys.stderr)
        return 130
    except OSError as exc:  # e.g. --port already in use
        print(f"facecast demo: {exc.strerror or exc}", file=sys.stderr)
        return 1
