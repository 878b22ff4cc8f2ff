"""``facecast bench all``: every suite, one after another, into one result file and one summary.

Each suite runs in its own process (a crash or a pinned CPU set in one cannot disturb the next)
and writes its JSON to a temporary file; the combined file ``{"machine", "versions", "suites": [...]}``
goes to ``--json`` (default ``benchmarks/results/all.json``) and can be given to ``--compare`` later.
``--quick`` passes each suite its ``QUICK_ARGV`` (a smoke run of a few minutes in all).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .compare import DEFAULT_THRESHOLD, compare_rows, load_suites
from .report import RESULTS_DIR, SUITES, library_versions, machine_info

# quick options for suites whose module does not define QUICK_ARGV itself
QUICK_ARGV = {
    "motion": ["--quick", "--no-cold-compile"],
    "render": ["--quick"],
    "playback": ["--seconds", "2"],
    "e2e": ["--seconds", "3", "--sessions", "25,50"],
    "lipsync": ["--quick"],
}


def quick_argv(name: str) -> list[str]:
    module = importlib.import_module(f"benchmarks.{name}")
    return list(getattr(module, "QUICK_ARGV", QUICK_ARGV.get(name, [])))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="facecast bench all", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="each suite's quick options")
    parser.add_argument("--only", default=None, help=f"comma list of suites (default: all of {','.join(SUITES)})")
    parser.add_argument("--skip", default="", help="comma list of suites to leave out")
    parser.add_argument("--json", type=Path, default=RESULTS_DIR / "all.json")
    parser.add_argument("--compare", type=Path, default=None, help="an earlier all.json or suite JSON")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    args = parser.parse_args(argv)
    names = [n for n in (args.only.split(",") if args.only else SUITES) if n and n not in args.skip.split(",")]
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        print(f"unknown suite(s) {', '.join(unknown)}; choose from {', '.join(SUITES)}")
        return 2
    previous = load_suites(args.compare) if args.compare else None  # fail before measuring, not after
    combined = {"machine": machine_info(), "versions": library_versions(), "suites": []}
    summary = []
    with tempfile.TemporaryDirectory(prefix="facecast-bench-") as tmp:
        for name in names:
            out = Path(tmp) / f"{name}.json"
            cmd = [sys.executable, "-m", "benchmarks", name, *(quick_argv(name) if args.quick else []),
                   "--json", str(out)]
            if args.compare:
                cmd += ["--compare", str(args.compare), "--threshold", str(args.threshold)]
            print(f"\n=== {name}: {' '.join(cmd[2:])}", flush=True)
            t0 = time.perf_counter()
            rc = subprocess.run(cmd, env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))).returncode
            seconds = time.perf_counter() - t0
            doc = json.loads(out.read_text()) if out.exists() else None
            if doc is not None:
                doc["seconds"], doc["exit_code"] = round(seconds, 1), rc
                combined["suites"].append(doc)
            summary.append((name, rc, seconds, doc))
    combined["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(combined, indent=2, ensure_ascii=False))
    print("\nsuite       exit    time  rows  budgets missed  regressions")
    failed = 0
    for name, rc, seconds, doc in summary:
        rows = doc["rows"] if doc else []
        missed = sum(1 for r in rows if r.get("within_budget") is False)
        if previous is not None and doc:
            worse = sum(1 for c in compare_rows(name, rows, previous, args.threshold) if c and c["regression"])
        else:
            worse = "-"
        failed += rc != 0 or doc is None
        print(f"{name:10s} {rc:5d} {seconds:6.0f} s {len(rows):5d} {missed:15d} {worse!s:>12}")
    print(f"wrote {args.json}")
    return 1 if failed else 0
