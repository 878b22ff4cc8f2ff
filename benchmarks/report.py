"""Shared benchmark plumbing: timing, machine info, a rich table and a JSON file per suite.

A suite is a module ``benchmarks.<name>`` with ``main(argv) -> int`` that measures our code and
its baseline *in the same run* and reports both with their ratio through :class:`Report`.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any, Callable

SUITES = ("motion", "render", "playback", "e2e")
RESULTS_DIR = Path(os.environ.get("FACECAST_BENCH_DIR", "benchmarks/results"))


def run_suite(name: str, argv: list[str]) -> int:
    if name not in SUITES:
        print(f"unknown suite {name!r}; choose one of: {', '.join(SUITES)}")
        return 2
    return int(importlib.import_module(f"benchmarks.{name}").main(argv) or 0)


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
    return info


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
    """Collects rows (ours vs baseline) and writes them as a table and ``benchmarks/results/<suite>.json``."""

    def __init__(self, suite: str, title: str) -> None:
        self.suite = suite
        self.title = title
        self.rows: list[dict[str, Any]] = []
        self.notes: list[str] = []

    def add(self, case: str, ours: str, ours_value: float, baseline: str | None = None,
            baseline_value: float | None = None, unit: str = "ms", higher_is_better: bool = False,
            budget: float | None = None, **extra: Any) -> None:
        ratio = None
        if baseline_value is not None and ours_value:
            ratio = (ours_value / baseline_value) if higher_is_better else (baseline_value / ours_value)
        row = {"case": case, "ours": ours, "value": ours_value, "baseline": baseline,
               "baseline_value": baseline_value, "unit": unit, "speedup": ratio, "budget": budget, **extra}
        if budget is not None:
            row["within_budget"] = ours_value >= budget if higher_is_better else ours_value <= budget
        self.rows.append(row)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def emit(self) -> Path:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=self.title)
        for col in ("case", "ours", "value", "baseline", "baseline value", "speedup", "budget"):
            table.add_column(col, justify="right" if "value" in col or col in ("speedup", "budget") else "left")

        def fmt(v: Any, unit: str = "") -> str:
            if v is None:
                return "-"
            return f"{v:,.3f} {unit}".strip() if isinstance(v, float) else f"{v} {unit}".strip()

        for r in self.rows:
            budget = "-" if r["budget"] is None else (
                f"{'ok' if r.get('within_budget') else 'MISSED'} ({fmt(r['budget'], r['unit'])})")
            table.add_row(r["case"], r["ours"], fmt(r["value"], r["unit"]), r["baseline"] or "-",
                          fmt(r["baseline_value"], r["unit"]),
                          "-" if r["speedup"] is None else f"{r['speedup']:.2f}x", budget)
        console = Console()
        console.print(table)
        for n in self.notes:
            console.print(n)
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        path = RESULTS_DIR / f"{self.suite}.json"
        path.write_text(json.dumps({"suite": self.suite, "title": self.title, "machine": machine_info(),
                                    "rows": self.rows, "notes": self.notes,
                                    "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, indent=2))
        console.print(f"wrote {path}")
        return path
