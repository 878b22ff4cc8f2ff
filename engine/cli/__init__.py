"""The ``facecast`` command line. Each subcommand lives in its own module of this package."""

from __future__ import annotations

import argparse
import importlib
import sys

from ..version import __version__

# module name -> one-line help; each module defines add_arguments(parser) and run(args) -> int
COMMANDS = {
    "plugins": "list the installed plugins and what they register",
    "make-demo-avatar": "regenerate the procedural demo avatar package",
    "convert-flame": "convert a FLAME model file into a pickle-free .npz",
    "import-gaussian-avatars": "import a trained GaussianAvatars head as an avatar package",
    "bench": "run a benchmark suite against its baseline",
    "serve": "run the embedded Motion Server",
    "apps": "manage the Motion Server's apps",
    "keys": "manage the Motion Server's API keys",
    "avatars": "host avatar packages on the Motion Server (add, list, remove)",
    "demo": "talk with the demo avatar (window, or a video with --output)",
    "device-score": "benchmark the render backends here and show which one is chosen",
    "render": "render an avatar offscreen to a PNG",
    "conformance": "run the plugin conformance suite against installed plugins",
    "precompile": "compile the numba kernels into their cache (scripts/setup runs it)",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="facecast", description="Facecast: real-time talking avatars.")
    parser.add_argument("--version", action="version", version=f"facecast {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        module = importlib.import_module(f"engine.cli.{name.replace('-', '_')}")
        p = sub.add_parser(name, help=help_text, description=(module.__doc__ or help_text).strip())
        module.add_arguments(p)
        p.set_defaults(_run=module.run, _pass_unknown=getattr(module, "PASS_UNKNOWN_ARGS", False))
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown and not getattr(args, "_pass_unknown", False):
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    args.unknown_args = unknown  # a command with PASS_UNKNOWN_ARGS hands these on (conformance → pytest)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    from ..errors import AvatarError
    from ..plugins import PluginError

    try:
        return int(args._run(args) or 0)
    except (AvatarError, PluginError) as exc:
        print(f"facecast {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
