"""Shared benchmark plumbing: timing, machine info, result tables and JSON files.

A suite is a module ``benchmarks.<name>`` with ``main(argv) -> int`` that measures our code and
its baseline *in the same run* and reports both with their ratio through :class:`Report`. Every
suite also takes ``--json PATH`` (where the results go; default ``benchmarks/results/<suite>.json``)
and ``--compare PREV.json`` (a ratio per case against an earlier run, regressions marked); the
runner strips them before the suite sees its arguments. Add a suite by adding its name to
``SUITES`` (and, if a quick run needs options, a ``QUICK_ARGV`` list in its module).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import statistics
import textwrap
import time
from pathlib import Path
from typing import Any, Callable

from .compare import DEFAULT_THRESHOLD, compare_rows, load_suites
from .table import WIDTH, render_table

SUITES = ("motion", "render", "playback", "e2e", "lipsync", "livekit", "soak", "video")
RESULTS_DIR = Path(os.environ.get("FACECAST_BENCH_DIR", "benchmarks/results"))
# libraries whose versions go into every result (the ones that decide the speed)
VERSIONED = ("facecast", "numpy", "numba", "llvmlite", "wgpu", "PyOpenGL", "glfw", "av", "sounddevice",
             "aiohttp", "websockets", "protobuf")


class _Output:
    """Where :meth:`Report.emit` writes and what it compares with (set by :func:`run_suite`)."""

    json_path: Path | None = None
    compare_path: Path | None = None
    threshold: float = DEFAULT_THRESHOLD
    load_before: list[float] | None = None


OUTPUT = _Output()


def common_options(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """Split ``--json``, ``--compare`` and ``--threshold`` off a suite's arguments."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--compare", type=Path, default=None)
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    return parser.parse_known_args(argv)


def run_suite(name: str, argv: list[str]) -> int:
    if name == "all":
        from .run_all import main as run_all

        return run_all(argv)
    if name not in SUITES:
        print(f"unknown suite {name!r}; choose one of: {', '.join(SUITES)} (or 'all')")
        return 2
    opts, rest = common_options(argv)
    if opts.compare is not None:
        try:
            load_suites(opts.compare)  # a bad file fails now, not after minutes of measuring
        except ValueError as exc:
            print(exc)
            return 2
    OUTPUT.json_path, OUTPUT.compare_path, OUTPUT.threshold = opts.json, opts.compare, opts.threshold
    OUTPUT.load_before = [round(x, 2) for x in os.getloadavg()]
    return int(importlib.import_module(f"benchmarks.{name}").main(rest) or 0)


def library_versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for dist in VERSIONED:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return out


def machine_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import numba
        import numpy

        info["numba"] = numba.__version__
        info["numpy"] = numpy.__version__
        info["numba_threads"] = numba.get_num_threads()
    except ImportError:
        pass
    info["usable_cpus"] = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    info["load_avg"] = [round(x, 2) for x in os.getloadavg()]
    gpu = nvidia_gpus()
    if gpu:
        info["gpus"] = gpu
    return info


def nvidia_gpus() -> list[str]:
    """``name, driver, memory`` of each NVIDIA GPU (empty without nvidia-smi)."""
    import shutil
    import subprocess

    if shutil.which("nvidia-smi") is None:
        return []
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line.strip() for line in out.stdout.splitlines() if line.strip()] if out.returncode == 0 else []


def time_call(fn: Callable[[], Any], *, repeat: int = 20, warmup: int = 2, min_time: float = 0.0) -> dict[str, float]:
    """Wall time of ``fn()`` in milliseconds: median, p10, p90, mean over ``repeat`` runs after ``warmup``."""
    for _ in range(warmup):
        fn()
    samples = []
    start = time.perf_counter()
    while len(samples) < repeat or time.perf_counter() - start < min_time:
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1e3)
    samples.sort()
    return {
        "median_ms": statistics.median(samples),
        "p10_ms": samples[len(samples) // 10],
        "p90_ms": samples[(len(samples) * 9) // 10],
        "mean_ms": statistics.fmean(samples),
        "runs": len(samples),
    }


class Report:
    """Collects rows (ours vs baseline) and writes them as a table and a JSON file (see the module doc)."""

    def __init__(self, suite: str, title: str) -> None:
        self.suite = suite
        self.title = title
        self.rows: list[dict[str, Any]] = []
        self.notes: list[str] = []

    def add(self, case: str, ours: str, ours_value: float, baseline: str | None = None,
            baseline_value: float | None = None, unit: str = "ms", higher_is_better: bool = False,
            budget: float | None = None, **extra: Any) -> None:
        """One measurement; keep ``case`` and the labels short (the table cuts long ones into footnotes)."""
        ratio = None
        if baseline_value and ours_value:  # no ratio against a zero
            ratio = (ours_value / baseline_value) if higher_is_better else (baseline_value / ours_value)
        row = {"case": case, "ours": ours, "value": ours_value, "baseline": baseline,
               "baseline_value": baseline_value, "unit": unit, "speedup": ratio, "budget": budget,
               "higher_is_better": higher_is_better, **extra}
        if budget is not None:
            row["within_budget"] = ours_value >= budget if higher_is_better else ours_value <= budget
        self.rows.append(row)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def document(self) -> dict[str, Any]:
        return {"suite": self.suite, "title": self.title, "machine": machine_info(), "versions": library_versions(),
                "load_before": OUTPUT.load_before, "rows": self.rows, "notes": self.notes,
                "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}

    def emit(self) -> Path:
        doc = self.document()
        changes = None
        if OUTPUT.compare_path is not None:
            changes = compare_rows(self.suite, self.rows, load_suites(OUTPUT.compare_path), OUTPUT.threshold)
            doc["compared_with"] = str(OUTPUT.compare_path)
            for row, change in zip(self.rows, changes):
                row["vs_previous"] = change
        print(render_table(self.title, self.rows, changes))
        for n in self.notes:
            print(textwrap.fill(n, WIDTH, initial_indent="note: ", subsequent_indent="      "))
        m = doc["machine"]
        before = OUTPUT.load_before[0] if OUTPUT.load_before else "?"
        print(f"machine: {m.get('cpu', m['machine'])}, {m['usable_cpus']} usable CPUs, load {before} before, "
              f"{m['load_avg'][0]} after; "
              + ", ".join(f"{k} {v}" for k, v in doc["versions"].items() if k in ("facecast", "numba", "numpy")))
        if changes is not None:
            worse = sum(1 for c in changes if c and c["regression"])
            print(f"compared with {OUTPUT.compare_path}: ratio > 1 is better now; {worse} regression(s) "
                  f"(▼: more than {OUTPUT.threshold:.0%} worse)")
        path = OUTPUT.json_path or RESULTS_DIR / f"{self.suite}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc, indent=2, ensure_ascii=False))
        print(f"wrote {path}")
        return path
