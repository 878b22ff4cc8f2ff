"""pytest plugin entry point of the conformance suite (registered as `pytest11`).

Tests that take a ``renderer_name`` fixture run once per renderer: the ones named with
``--facecast-renderer`` (repeatable), else every registered renderer. A renderer whose
``probe()`` says it cannot run here is skipped with the probe's reason.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser):
    group = parser.getgroup("facecast", "Facecast plugin conformance")
    group.addoption("--facecast-renderer", action="append", default=[], metavar="NAME",
                    help="renderer plugin(s) to check against the cpu reference (default: all available)")


def pytest_generate_tests(metafunc):
    if "renderer_name" in metafunc.fixturenames:
        names = metafunc.config.getoption("--facecast-renderer")
        if not names:
            from engine.plugins import get_plugin_manager

            names = get_plugin_manager().names("renderers")
        metafunc.parametrize("renderer_name", names, scope="session")


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
