"""List every loaded plugin: its distribution, version, hooks, and the names it registers per kind."""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args: argparse.Namespace) -> int:
    from ..plugins import get_plugin_manager

    plugins = get_plugin_manager().plugins()
    if args.json:
        print(json.dumps(plugins, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Facecast plugins")
    for col in ("plugin", "distribution", "version", "registers"):
        table.add_column(col)
    for p in plugins:
        regs = "; ".join(f"{kind}: {', '.join(names)}" for kind, names in p["registers"].items()) or "-"
        table.add_row(p["name"], p["distribution"] or "-", p["version"] or "-", regs)
    Console().print(table)
    return 0
