"""Compare a run with a previous one (``--compare PREV.json``): a ratio per case, regressions marked.

A result file holds one suite (``{"suite": ..., "rows": [...]}``) or several (``{"suites": [...]}``,
written by ``facecast bench all``); either kind can be compared with either. Rows match on
(suite, case, ours). The ratio is "times better now": previous/now for times, now/previous for
rates (``higher_is_better``), so > 1 is an improvement in both. A row is a regression when the
ratio falls below 1 / (1 + threshold).
"""

from __future__ import annotations

import json
import os
from typing import Any

DEFAULT_THRESHOLD = 0.10  # machines are noisy: smaller changes are not called regressions


def load_suites(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The suite documents in a result file."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read benchmark results from {os.fspath(path)!r}: {exc}; "
                         "pass a file written by --json (or one in benchmarks/results/)") from None
    suites = doc.get("suites", [doc]) if isinstance(doc, dict) else None
    if not isinstance(suites, list) or not all(isinstance(s, dict) and "rows" in s for s in suites):
        raise ValueError(f"{os.fspath(path)!r} is not a benchmark result file (no 'rows' or 'suites')")
    return suites


def _key(suite: str, row: dict[str, Any]) -> tuple[str, str, str]:
    return suite, str(row.get("case")), str(row.get("ours"))


def compare_rows(suite: str, rows: list[dict[str, Any]], previous: list[dict[str, Any]],
                 threshold: float = DEFAULT_THRESHOLD) -> list[dict[str, Any] | None]:
    """Per row of ``rows``: ``{"previous", "ratio", "regression"}``, or None when the case is new."""
    before = {}
    for doc in previous:
        for row in doc.get("rows", []):
            before[_key(doc.get("suite", ""), row)] = row
    out: list[dict[str, Any] | None] = []
    for row in rows:
        old = before.get(_key(suite, row))
        now, then = row.get("value"), None if old is None else old.get("value")
        if not isinstance(now, (int, float)) or not isinstance(then, (int, float)) or now <= 0 or then <= 0:
            out.append(None)
            continue
        ratio = now / then if row.get("higher_is_better") else then / now
        out.append({"previous": then, "ratio": ratio, "regression": ratio < 1.0 / (1.0 + threshold)})
    return out
