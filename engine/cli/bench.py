"""Run a benchmark suite (ours and its baseline side by side) and write benchmarks/results/<suite>.json."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("suite", help="motion, render, playback or e2e")
    parser.add_argument("options", nargs=argparse.REMAINDER, help="options passed to the suite")


def run(args: argparse.Namespace) -> int:
    try:
        from benchmarks.report import run_suite
    except ImportError:
        print("the benchmarks package is not installed; run from a source checkout (pip install -e .)")
        return 2
    return run_suite(args.suite, args.options)
