"""The plugin manager: entry points, FACECAST_LOAD_PLUGINS, misspelt hooks, duplicate names."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest

from engine import hookimpl
from engine.plugins import KINDS, PluginError, PluginManager

BUILT_INS = {
    "transports": {"direct", "backend"},
    "renderers": {"cpu", "wgpu", "opengl"},
    "starvation_policies": {"audio_independent", "strict_sync", "hold_last", "ease_to_idle"},
    "audio_sinks": {"sounddevice", "virtual", "file"},
    "motion_generators": {"procedural", "phoneme"},
}


def _plugin(**hooks) -> types.SimpleNamespace:
    for fn in hooks.values():
        hookimpl(fn)
    return types.SimpleNamespace(**hooks)


def _policy_factory():
    return "policy"


def test_registration_hooks_fill_the_registry():
    def register_starvation_policies(register):
        register("freeze", _policy_factory)

    def register_renderers(register):
        register("null", lambda: None, lambda: None)

    pm = PluginManager([("mine", _plugin(register_starvation_policies=register_starvation_policies,
                                         register_renderers=register_renderers))], load_entry_points=False)
    reg = pm.get("starvation_policies", "freeze")
    assert reg.plugin == "mine" and reg.factory() == "policy"
    assert pm.names("renderers") == ["null"]
    [info] = pm.plugins()
    assert info["name"] == "mine"
    assert info["registers"] == {"renderers": ["null"], "starvation_policies": ["freeze"]}
    assert set(info["hooks"]) == {"register_renderers", "register_starvation_policies"}


def test_unknown_name_lists_what_is_available():
    def register_audio_sinks(register):
        register("speaker", object)

    pm = PluginManager([("a", _plugin(register_audio_sinks=register_audio_sinks))], load_entry_points=False)
    with pytest.raises(KeyError, match="available: speaker"):
        pm.get("audio_sinks", "headphones")


def test_duplicate_name_names_both_plugins():
    def one(register):
        register("same", object)

    def two(register):
        register("same", object)

    with pytest.raises(PluginError) as info:
        PluginManager([("first_plugin", _plugin(register_transports=one)),
                       ("second_plugin", _plugin(register_transports=two))], load_entry_points=False)
    assert "first_plugin" in str(info.value) and "second_plugin" in str(info.value)


def test_misspelt_hook_names_the_plugin():
    def register_transport(register):  # missing "s"
        register("x", object)

    with pytest.raises(PluginError) as info:
        PluginManager([("sloppy_plugin", _plugin(register_transport=register_transport))], load_entry_points=False)
    assert "sloppy_plugin" in str(info.value) and "register_transport" in str(info.value)


def test_renderer_without_probe_is_refused():
    def register_renderers(register):
        register("noprobe", object)

    with pytest.raises(PluginError, match="probe"):
        PluginManager([("p", _plugin(register_renderers=register_renderers))], load_entry_points=False)


def test_choose_renderer_first_result_wins():
    def choose_renderer(scores):
        return "opengl" if "opengl" in scores else None

    pm = PluginManager([("chooser", _plugin(choose_renderer=choose_renderer))], load_entry_points=False)
    assert pm.choose_renderer(["cpu", "opengl"]) == "opengl"
    assert pm.choose_renderer(["cpu"]) is None


# -- the real thing: installed distributions and their entry points ------------------------------

def _facecast(*args: str, env_extra: dict[str, str] | None = None, site: Path | None = None):
    env = dict(os.environ)
    if site is not None:
        env["PYTHONPATH"] = str(site) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "engine", *args], capture_output=True, text=True, env=env,
                          timeout=120)


def test_built_in_plugins_are_listed_with_their_registrations():
    out = _facecast("plugins", "--json")
    assert out.returncode == 0, out.stderr
    plugins = json.loads(out.stdout)
    assert all(p["distribution"] == "facecast" for p in plugins)
    registered = {kind: set() for kind in KINDS}
    for p in plugins:
        for kind, names in p["registers"].items():
            registered[kind] |= set(names)
    for kind, names in BUILT_INS.items():
        assert names <= registered[kind], (kind, registered[kind])


def test_facecast_load_plugins_restricts_loading():
    out = _facecast("plugins", "--json", env_extra={"FACECAST_LOAD_PLUGINS": "virtual,cpu"})
    assert out.returncode == 0, out.stderr
    assert sorted(p["name"] for p in json.loads(out.stdout)) == ["cpu", "virtual"]


def _build_distribution(tmp_path: Path, name: str, module_source: str) -> Path:
    """Write a real third-party plugin project and pip-install it into its own site dir."""
    project = tmp_path / name
    project.mkdir()
    module = name.replace("-", "_")
    (project / "pyproject.toml").write_text(textwrap.dedent(f"""
        [build-system]
        requires = ["setuptools>=77"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "{name}"
        version = "1.2.3"

        [project.entry-points.facecast]
        {module} = "{module}"

        [tool.setuptools]
        py-modules = ["{module}"]
    """))
    (project / f"{module}.py").write_text(textwrap.dedent(module_source))
    site = tmp_path / f"{name}-site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--target", str(site), str(project)], check=True, capture_output=True, timeout=300)
    return site


THIRD_PARTY = """
    from engine import hookimpl
    from engine.contracts import StarvationDecision


    class FreezeFrame:
        \"\"\"Holds the last pose forever: a policy a kiosk might want.\"\"\"

        holds_audio = False
        ease_seconds = 0.0

        def decide(self, starved, starved_for_s, buffered_frames):
            return StarvationDecision.HOLD if starved else StarvationDecision.PLAY

        def reset(self):
            pass


    @hookimpl
    def register_starvation_policies(register):
        register("freeze_frame", FreezeFrame)
"""


def test_third_party_distribution_is_listed_and_used(tmp_path):
    site = _build_distribution(tmp_path, "facecast-freeze", THIRD_PARTY)
    out = _facecast("plugins", "--json", site=site)
    assert out.returncode == 0, out.stderr
    [mine] = [p for p in json.loads(out.stdout) if p["name"] == "facecast_freeze"]
    assert mine["distribution"] == "facecast-freeze" and mine["version"] == "1.2.3"
    assert mine["registers"] == {"starvation_policies": ["freeze_frame"]}
    # ...and the engine resolves and uses what it registered.
    code = ("from engine.plugins import get_plugin_manager\n"
            "p = get_plugin_manager().get('starvation_policies', 'freeze_frame').factory()\n"
            "print(int(p.decide(True, 1.0, 0)), int(p.decide(False, 0.0, 5)))")
    env = dict(os.environ, PYTHONPATH=str(site))
    used = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert used.returncode == 0, used.stderr
    assert used.stdout.split() == ["1", "0"]
    # ...and its author can check it against the contract with the conformance suite.
    checked = _facecast("conformance", "--starvation-policy", "freeze_frame", site=site)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "passed" in checked.stdout and "failed" not in checked.stdout


@pytest.mark.parametrize("name, hook, registered, expected", [
    # a misspelt hook ("sink" for "sinks") names the plugin and the hook
    ("facecast-typo", "register_audio_sink", "typo", ["facecast_typo", "register_audio_sink"]),
    # a name a built-in already registered names both plugins
    ("facecast-clash", "register_audio_sinks", "virtual", ["facecast_clash", "'virtual'", "plugin 'virtual'"]),
])
def test_broken_third_party_plugin_fails_loudly_naming_it(tmp_path, name, hook, registered, expected):
    site = _build_distribution(tmp_path, name, f"""
        from engine import hookimpl

        @hookimpl
        def {hook}(register):
            register("{registered}", object)
    """)
    out = _facecast("plugins", site=site)
    assert out.returncode == 1
    for fragment in expected:
        assert fragment in out.stderr, out.stderr
