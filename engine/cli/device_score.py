"""Benchmark each render backend on the real workload (in subprocesses), print the table and the choice."""

from __future__ import annotations

import json


def add_arguments(parser) -> None:
    parser.add_argument("--refresh", action="store_true", help="measure again instead of using the cached result")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds each backend may take (default 120)")


def run(args) -> int:
    from ..render.device_score import measure_sync

    score = measure_sync(use_cache=not args.refresh, timeout=args.timeout)
    if args.json:
        print(json.dumps({"cpu_score": score.cpu_score, "gpu_score": score.gpu_score, "supported": score.supported,
                          "backend": score.backend, "reason": score.reason, "fingerprint": score.fingerprint,
                          "cached": score.cached, "backends": score.table()}, indent=2))
        return 0 if score.backend else 1
    from rich.console import Console
    from rich.table import Table

    table = Table(title="facecast device score" + (" (cached)" if score.cached else ""))
    for col in ("backend", "runs here", "GPU", "ms/frame", "fps", "notes"):
        table.add_column(col, justify="right" if col in ("ms/frame", "fps") else "left")
    for row in score.table():
        table.add_row(row["backend"], "yes" if row["available"] else "no", "yes" if row["gpu"] else "no",
                      "-" if row["ms_per_frame"] is None else f"{row['ms_per_frame']:.1f}",
                      "-" if row["fps"] is None else f"{row['fps']:.1f}", row["reason"])
    console = Console()
    console.print(table)
    fmt = lambda v: "-" if v is None else f"{v:.1f} fps"  # noqa: E731
    console.print(f"cpu score {fmt(score.cpu_score)}, gpu score {fmt(score.gpu_score)}; "
                  f"supported: {'yes' if score.supported else 'no'}")
    console.print(f"chosen backend: [bold]{score.backend or 'none'}[/bold] — {score.reason}")
    return 0 if score.backend else 1
