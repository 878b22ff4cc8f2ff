"""pytest plugin of the conformance suite (registered as the ``pytest11`` entry point ``facecast_conformance``).

Each suite's tests take one ``*_name`` fixture and run once per plugin of that kind: the ones named
with the option below (repeatable), else every registered one that fits.

==========================  ==================================  ====================================
fixture                     option                              default
==========================  ==================================  ====================================
``renderer_name``           ``--facecast-renderer``             every registered renderer
``audio_sink_name``         ``--facecast-audio-sink``           every registered audio sink
``starvation_policy_name``  ``--facecast-starvation-policy``     every registered starvation policy
``transport_name``          ``--facecast-transport``            every registered transport that is
                                                                not a ``BackendFeed``
``backend_feed_name``       ``--facecast-backend-feed``         every registered ``BackendFeed``
``motion_generator_name``   ``--facecast-motion-generator``     every registered motion generator
==========================  ==================================  ====================================

A plugin named with one of these options passes only if at least one of its checks ran and none
failed: a plugin whose every check was skipped (a renderer whose probe says it cannot run here, a
sink that cannot be made) fails the run.
"""

from __future__ import annotations

import json

import attrs
import pytest

# fixture -> (option, registry kind, selector of the default names)
KINDS = {
    "renderer_name": ("--facecast-renderer", "renderers", None),
    "audio_sink_name": ("--facecast-audio-sink", "audio_sinks", None),
    "starvation_policy_name": ("--facecast-starvation-policy", "starvation_policies", None),
    "transport_name": ("--facecast-transport", "transports", "network"),
    "backend_feed_name": ("--facecast-backend-feed", "transports", "backend"),
    "motion_generator_name": ("--facecast-motion-generator", "motion_generators", None),
}
# What the built-in sinks need to run unattended, one dict per way the sink can run; a third
# party passes --facecast-audio-sink-options (repeatable). 'tmp:NAME' is a file in a temp folder.
BUILT_IN_SINK_OPTIONS = {
    "virtual": [{"real_time": True}, {"real_time": False}],
    "file": [{"real_time": True, "path": "tmp:conformance.wav"}, {"path": "tmp:conformance.wav"}],
}

_OUTCOMES = pytest.StashKey[tuple]()


def pytest_addoption(parser):
    group = parser.getgroup("facecast", "Facecast plugin conformance")
    group.addoption("--facecast-renderer", action="append", default=[], metavar="NAME",
                    help="renderer to check against the cpu reference and gsplat's rules (default: all)")
    group.addoption("--facecast-audio-sink", action="append", default=[], metavar="NAME",
                    help="audio sink to check (default: every registered sink)")
    group.addoption("--facecast-audio-sink-options", action="append", default=[], metavar="JSON",
                    help="keyword options for the sink factory, a JSON object ('tmp:NAME' = a temp file); "
                         "repeat to check the sink in several configurations")
    group.addoption("--facecast-starvation-policy", action="append", default=[], metavar="NAME",
                    help="starvation policy to check (default: every registered policy)")
    group.addoption("--facecast-transport", action="append", default=[], metavar="NAME",
                    help="network transport to check against the embedded Motion Server "
                         "(default: every registered transport that is not a BackendFeed)")
    group.addoption("--facecast-backend-feed", action="append", default=[], metavar="NAME",
                    help="backend-mode transport (BackendFeed) to check (default: every registered one)")
    group.addoption("--facecast-motion-generator", action="append", default=[], metavar="NAME",
                    help="motion generator to check (default: every registered generator)")


def _manager():
    from engine.plugins import get_plugin_manager

    return get_plugin_manager()


_feeds: dict[str, bool] = {}


def is_backend_feed(name: str) -> bool:
    """Whether transport ``name`` implements ``BackendFeed`` (made once with a context that dials nothing)."""
    if name not in _feeds:
        from engine import AudioFormat, Endpoints
        from engine.contracts import BackendFeed, TransportContext

        class _Silent:
            def on_animation(self, message): pass
            def on_connection_state(self, state): pass
            def on_error(self, error): pass

        closed = "http://127.0.0.1:9"  # the discard port: nothing listens, nothing is sent
        context = TransportContext(app_id="conformance", avatar_id="conformance", audio_format=AudioFormat(),
                                   endpoints=Endpoints(console=closed, ingress="ws://127.0.0.1:9", assets=closed),
                                   session_token=None, listener=_Silent())
        try:
            _feeds[name] = isinstance(_manager().get("transports", name).factory(context), BackendFeed)
        except Exception:  # a factory that fails fails its own checks in the suite that runs it
            _feeds[name] = False
    return _feeds[name]


def _default_names(kind: str, selector: str | None) -> list[str]:
    names = _manager().names(kind)
    if selector == "network":
        return [n for n in names if not is_backend_feed(n)]
    if selector == "backend":
        return [n for n in names if is_backend_feed(n)]
    return names


def _sink_variants(config, names: list[str]) -> list[tuple[str, dict]]:
    given = config.getoption("--facecast-audio-sink-options")
    variants = []
    for raw in given:
        try:
            options = json.loads(raw)
        except ValueError as exc:
            raise pytest.UsageError(f"--facecast-audio-sink-options is not JSON: {exc}") from None
        if not isinstance(options, dict):
            raise pytest.UsageError("--facecast-audio-sink-options must be a JSON object")
        variants.append(options)
    out = []
    for name in names:
        for options in variants or BUILT_IN_SINK_OPTIONS.get(name, [{}]):
            out.append((name, options))
    return out


def _sink_id(name: str, options: dict) -> str:
    return name + ("[" + ",".join(f"{k}={v}" for k, v in sorted(options.items())) + "]" if options else "")


def pytest_generate_tests(metafunc):
    for fixture, (option, kind, selector) in KINDS.items():
        if fixture not in metafunc.fixturenames:
            continue
        names = metafunc.config.getoption(option) or _default_names(kind, selector)
        if fixture == "audio_sink_name":
            variants = _sink_variants(metafunc.config, names)
            metafunc.parametrize(("audio_sink_name", "audio_sink_options"), variants, scope="session",
                                 ids=[_sink_id(*v) for v in variants])
        else:
            metafunc.parametrize(fixture, names, scope="session")


def registration(kind: str, name: str):
    """The plugin's registration; fails the test (never skips) when nothing of that name is registered."""
    try:
        return _manager().get(kind, name)
    except KeyError as exc:
        pytest.fail(str(exc.args[0]), pytrace=False)


_probes: dict = {}


@pytest.fixture(scope="session")
def renderer_registration(renderer_name):
    """The renderer's registration; skips when its probe says it cannot run here."""
    found = registration("renderers", renderer_name)
    if renderer_name not in _probes:
        _probes[renderer_name] = found.probe()
    probe = _probes[renderer_name]
    if not probe.available:
        pytest.skip(f"{renderer_name} cannot run here: {probe.reason}")
    return found


@pytest.fixture(autouse=True)
def _renderer_available(request):
    if "renderer_name" in request.fixturenames:
        request.getfixturevalue("renderer_registration")


# -- a named plugin must have run --------------------------------------------------------------


@attrs.define
class _Tally:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    reasons: list = attrs.Factory(list)


def pytest_configure(config):
    named = {}
    for fixture, (option, _, _) in KINDS.items():
        for name in config.getoption(option):
            named[(fixture, name)] = _Tally()
    config.stash[_OUTCOMES] = (named, [])


def pytest_collection_modifyitems(config, items):
    named, _ = config.stash[_OUTCOMES]
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        for fixture in KINDS:
            if (fixture, params.get(fixture)) in named:
                item.stash[_OUTCOMES] = (fixture, params[fixture])


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    key = item.stash.get(_OUTCOMES, None)
    if key is None:
        return
    report = outcome.get_result()
    tally = item.config.stash[_OUTCOMES][0][key]
    if report.failed:
        tally.failed += 1
    elif report.skipped:
        tally.skipped += 1
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        if reason not in tally.reasons:
            tally.reasons.append(reason)
    elif report.when == "call":
        tally.passed += 1


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    named, verdicts = session.config.stash[_OUTCOMES]
    for (fixture, name), tally in named.items():
        if tally.passed or tally.failed:
            continue
        option = KINDS[fixture][0].replace("--facecast-", "--")
        why = "; ".join(tally.reasons[:3]) if tally.reasons else "no check of it was collected"
        verdicts.append(f"{option} {name}: FAILED, every check was skipped ({why})")
    if verdicts and session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    _, verdicts = config.stash[_OUTCOMES]
    if verdicts:
        terminalreporter.section("facecast conformance")
        for line in verdicts:
            terminalreporter.write_line(line, red=True)
