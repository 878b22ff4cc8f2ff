"""The plugin kit: every name it lists resolves, and the built-in plugins import nothing else of the engine."""

from __future__ import annotations

import ast
from pathlib import Path

import engine.kit

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
ALLOWED = {"engine", "engine.kit", "engine.contracts"}


def test_every_kit_name_resolves():
    for name in engine.kit.__all__:
        assert getattr(engine.kit, name) is not None, name


def test_built_in_plugins_import_only_the_kit():
    wrong = []
    for path in sorted(PLUGINS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            else:
                continue
            for module in modules:
                if module.split(".")[0] == "engine" and module not in ALLOWED:
                    wrong.append(f"{path.relative_to(PLUGINS.parent)}:{node.lineno} imports {module}")
    assert not wrong, "plugins may import only engine, engine.contracts and engine.kit:\n" + "\n".join(wrong)
