"""The engine's import graph: no circle, and no floor imports one above it.

Read from the source (every ``import`` statement, function-level ones included), so an import
that only runs on some path counts as much as one at the top of a module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import engine

ROOT = Path(engine.__file__).parent
# Floors, lowest first. A module may import its own floor and those below it, never one above.
FLOORS = [
    {"engine.errors", "engine.enums", "engine.version", "engine.config", "engine.logs", "engine.runtime", "engine.lazy"},
    {"engine.contracts", "engine.hookspecs", "engine.plugins", "engine.wire", "engine.motion", "engine.avatar",
     "engine.prepare"},
    {"engine.render", "engine.playback", "engine.kit"},
    {"engine.sdk"},
]
ABOVE = len(FLOORS)  # the package's own __init__, cli, server, demo: above every floor listed


def modules() -> dict[str, tuple[Path, bool]]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = ["engine", *path.relative_to(ROOT).with_suffix("").parts]
        package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if package else parts)] = (path, package)
    return found


def imports(name: str, path: Path, package: bool, known) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = name.split(".") if package else name.split(".")[:-1]
            if node.level:
                base = base[:len(base) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            targets = [f"{prefix}.{alias.name}" if f"{prefix}.{alias.name}" in known else prefix
                       for alias in node.names]
        for target in targets:
            while target not in known and "." in target:
                target = target.rsplit(".", 1)[0]
            if target in known and target != name:
                out.add(target)
    return out


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, package, known) for name, (path, package) in known.items()}


def floor_of(name: str) -> int | None:
    for level, members in enumerate(FLOORS):
        if any(name == m or name.startswith(m + ".") for m in members):
            return level
    return None


def floor_or_above(name: str) -> int:
    level = floor_of(name)
    return ABOVE if level is None else level


def test_no_module_imports_a_floor_above_its_own():
    upward = []
    for name, deps in graph().items():
        mine = floor_of(name)
        if mine is None:
            continue
        upward += [f"{name} → {dep}" for dep in deps if floor_or_above(dep) > mine]
    assert upward == []


def test_the_core_has_no_import_circle():
    edges = graph()
    core = {name for name in edges if floor_of(name) is not None}
    circles = []
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges[v] & core:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for name in sorted(core):
        if name not in index:
            visit(name)
    assert circles == []
