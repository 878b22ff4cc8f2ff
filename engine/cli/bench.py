"""Run a benchmark suite (ours and its baseline side by side) and write benchmarks/results/<suite>.json.

`facecast bench all` runs every suite into one report (`--quick` for a smoke run); every suite takes
`--json PATH` (where the results go) and `--compare PREV.json` (a ratio per case, regressions marked)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("suite", help="a suite name (motion, render, playback, e2e, ...) or all")
    parser.add_argument("options", nargs=argparse.REMAINDER, help="options passed to the suite")


def run(args: argparse.Namespace) -> int:
    try:
        from benchmarks.report import run_suite
    except ImportError:
        print("the benchmarks package is not installed; run from a source checkout (pip install -e .)")
        return 2
    return run_suite(args.suite, args.options)
