"""Run the plugin conformance suite (pytest) against installed renderer plugins.

Example: `facecast conformance --renderer myrenderer` checks that plugin against the cpu reference;
extra arguments after `--` go to pytest.
"""

from __future__ import annotations


def add_arguments(parser) -> None:
    parser.add_argument("--renderer", action="append", default=[], metavar="NAME",
                        help="renderer to check (repeatable; default: every registered renderer)")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")


def run(args) -> int:
    import importlib.metadata as md

    import pytest

    argv = ["--pyargs", "conformance", "-q", "-p", "no:cacheprovider"]
    if not any(ep.value == "conformance.plugin" for ep in md.entry_points(group="pytest11")):
        argv += ["-p", "conformance.plugin"]  # running from a checkout that is not installed
    for name in args.renderer:
        argv += ["--facecast-renderer", name]
    return int(pytest.main(argv + list(args.pytest_args)))
