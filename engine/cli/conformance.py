"""Run the plugin conformance suite (pytest) against installed plugins.

Examples: `facecast conformance --renderer myrenderer` checks a renderer against the cpu reference;
`facecast conformance --starvation-policy freeze_frame` checks a policy against its contract. With no
plugin named, every suite runs on every built-in and installed plugin. Extra arguments after `--` go
to pytest.
"""

from __future__ import annotations

# option -> (pytest option, suite module)
SUITES = {
    "renderer": ("--facecast-renderer", "conformance.test_renderers"),
    "audio_sink": ("--facecast-audio-sink", "conformance.test_audio_sinks"),
    "starvation_policy": ("--facecast-starvation-policy", "conformance.test_starvation_policies"),
    "transport": ("--facecast-transport", "conformance.test_transports"),
}


def add_arguments(parser) -> None:
    for option in SUITES:
        flag = "--" + option.replace("_", "-")
        parser.add_argument(flag, dest=option, action="append", default=[], metavar="NAME",
                            help=f"{option.replace('_', ' ')} plugin to check (repeatable)")
    parser.add_argument("--audio-sink-options", metavar="JSON", help="keyword options for the audio sink factory")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")


def run(args) -> int:
    import importlib.metadata as md
    import importlib.util

    import pytest

    argv = ["-q", "-p", "no:cacheprovider"]
    if not any(ep.value == "conformance.plugin" for ep in md.entry_points(group="pytest11")):
        argv += ["-p", "conformance.plugin"]  # running from a checkout that is not installed
    named = {option: getattr(args, option) for option in SUITES if getattr(args, option)}
    modules = []
    for option, (pytest_option, module) in SUITES.items():
        if named and option not in named:
            continue
        if importlib.util.find_spec(module) is None:
            continue
        modules.append(module)
        for name in named.get(option, ()):
            argv += [pytest_option, name]
    if args.audio_sink_options:
        argv += ["--facecast-audio-sink-options", args.audio_sink_options]
    return int(pytest.main(argv + ["--pyargs", *modules] + list(args.pytest_args)))
