"""pytest plugin entry point of the conformance suite (registered as `pytest11`).

Tests that take a ``renderer_name`` fixture run once per renderer: the ones named with
``--facecast-renderer`` (repeatable), else every registered renderer. A renderer whose
``probe()`` says it cannot run here is skipped with the probe's reason. Likewise
``audio_sink_name`` (``--facecast-audio-sink``), ``starvation_policy_name``
(``--facecast-starvation-policy``) and ``transport_name`` (``--facecast-transport``).
"""

from __future__ import annotations

import json

import pytest

# What the built-in sinks need to run unattended; a third party passes --facecast-audio-sink-options.
BUILT_IN_SINK_OPTIONS = {
    "virtual": {"real_time": True},
    "file": {"real_time": True, "path": "tmp:conformance.wav"},
}
# Transports that speak the Motion Server protocol over the network (checked against the embedded server).
NETWORK_TRANSPORTS = ("direct",)


def pytest_addoption(parser):
    group = parser.getgroup("facecast", "Facecast plugin conformance")
    group.addoption("--facecast-renderer", action="append", default=[], metavar="NAME",
                    help="renderer plugin(s) to check against the cpu reference (default: all available)")
    group.addoption("--facecast-audio-sink", action="append", default=[], metavar="NAME",
                    help="audio sink plugin(s) to check (default: every registered sink)")
    group.addoption("--facecast-audio-sink-options", default=None, metavar="JSON",
                    help="keyword options for the sink factory, as a JSON object ('tmp:NAME' = a temp file)")
    group.addoption("--facecast-starvation-policy", action="append", default=[], metavar="NAME",
                    help="starvation policy plugin(s) to check (default: every registered policy)")
    group.addoption("--facecast-transport", action="append", default=[], metavar="NAME",
                    help="network transport plugin(s) to check against the embedded Motion Server "
                         "(default: the built-in direct transport)")


_PARAMETERS = {  # fixture -> (option, registry kind)
    "renderer_name": ("--facecast-renderer", "renderers"),
    "audio_sink_name": ("--facecast-audio-sink", "audio_sinks"),
    "starvation_policy_name": ("--facecast-starvation-policy", "starvation_policies"),
    "transport_name": ("--facecast-transport", None),
}


def pytest_generate_tests(metafunc):
    for fixture, (option, kind) in _PARAMETERS.items():
        if fixture not in metafunc.fixturenames:
            continue
        names = metafunc.config.getoption(option)
        if not names:
            if kind is None:
                names = list(NETWORK_TRANSPORTS)
            else:
                from engine.plugins import get_plugin_manager

                names = get_plugin_manager().names(kind)
        metafunc.parametrize(fixture, names, scope="session")


@pytest.fixture
def audio_sink_options(request, audio_sink_name):
    raw = request.config.getoption("--facecast-audio-sink-options")
    if raw is None:
        return dict(BUILT_IN_SINK_OPTIONS.get(audio_sink_name, {}))
    try:
        options = json.loads(raw)
    except ValueError as exc:
        raise pytest.UsageError(f"--facecast-audio-sink-options is not JSON: {exc}") from None
    if not isinstance(options, dict):
        raise pytest.UsageError("--facecast-audio-sink-options must be a JSON object")
    return options


_probes: dict = {}


@pytest.fixture(scope="session")
def renderer_registration(renderer_name):
    """The renderer's registration; skips when its probe says it cannot run here."""
    from engine.plugins import get_plugin_manager

    try:
        registration = get_plugin_manager().get("renderers", renderer_name)
    except KeyError as exc:
        pytest.fail(str(exc.args[0]))
    if renderer_name not in _probes:
        _probes[renderer_name] = registration.probe()
    probe = _probes[renderer_name]
    if not probe.available:
        pytest.skip(f"{renderer_name} cannot run here: {probe.reason}")
    return registration


@pytest.fixture(autouse=True)
def _renderer_available(request):
    if "renderer_name" in request.fixturenames:
        request.getfixturevalue("renderer_registration")
