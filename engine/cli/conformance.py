"""Check plugins against their contracts (a pytest run of the conformance suite).

With no plugin named, every suite runs on every registered plugin it fits: renderers
(against the cpu reference and gsplat's rules), audio sinks (the built-in virtual and file sinks
both in real time and offline), starvation policies, network transports (every transport that is
not a BackendFeed, against the embedded Motion Server on 127.0.0.1), backend feeds (every
transport that implements BackendFeed) and motion generators. Naming a plugin runs only the
suites of the kinds named, on only the plugins named; a named plugin whose every check is skipped
(a renderer that cannot run here, a sink that cannot be made) fails. Any other option (-v, -x,
-k EXPR, --junitxml FILE ...) goes to pytest, as does everything after `--`. Works from any
folder: no configuration or conftest of the current directory is read.
"""

from __future__ import annotations

# option -> (pytest option, suite modules)
SUITES = {
    "renderer": ("--facecast-renderer", ("conformance.test_renderers", "conformance.test_renderer_rules")),
    "audio_sink": ("--facecast-audio-sink", ("conformance.test_audio_sinks",)),
    "starvation_policy": ("--facecast-starvation-policy", ("conformance.test_starvation_policies",)),
    "transport": ("--facecast-transport", ("conformance.test_transports",)),
    "backend_feed": ("--facecast-backend-feed", ("conformance.test_backend_feeds",)),
    "motion_generator": ("--facecast-motion-generator", ("conformance.test_motion_generators",)),
}
PASS_UNKNOWN_ARGS = True


def add_arguments(parser) -> None:
    for option in SUITES:
        flag = "--" + option.replace("_", "-")
        parser.add_argument(flag, dest=option, action="append", default=[], metavar="NAME",
                            help=f"check the {option.replace('_', ' ')} NAME (repeatable)")
    parser.add_argument("--audio-sink-options", action="append", default=[], metavar="JSON",
                        help="keyword options for the audio sink factory as a JSON object; repeat to check "
                             "several configurations ('tmp:NAME' is a file in a temporary folder)")


def pytest_argv(args) -> list[str]:
    import importlib.metadata as md
    import os
    from pathlib import Path

    import conformance

    # No configuration, conftest or asyncio plugin of the current folder changes what runs; the
    # root is the suite's own folder, so test ids read conformance/test_....py::test_...
    root = Path(conformance.__file__).resolve().parent.parent
    argv = ["-c", os.devnull, "--rootdir", str(root), "--noconftest", "-p", "no:cacheprovider", "-p", "no:asyncio"]
    if not any(ep.value == "conformance.plugin" for ep in md.entry_points(group="pytest11")):
        argv += ["-p", "conformance.plugin"]  # running from a checkout that is not installed
    named = {option for option in SUITES if getattr(args, option)}
    modules = []
    for option, (pytest_option, suite) in SUITES.items():
        if named and option not in named:
            continue
        modules += suite
        for name in getattr(args, option):
            argv += [pytest_option, name]
    for options in args.audio_sink_options:
        argv += ["--facecast-audio-sink-options", options]
    extra = [a for a in getattr(args, "unknown_args", []) if a != "--"]
    return argv + extra + ["--pyargs", *modules]


def run(args) -> int:
    import pytest

    return int(pytest.main(pytest_argv(args)))
