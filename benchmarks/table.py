"""Plain-text result tables that fit a terminal of ``width`` columns (default 100).

One table per unit, with the unit in the value headers, so no cell repeats it. Labels too long
for their column are cut and numbered; the full text goes into a footnote under the table, so
nothing wraps and every row stays on one line (and greppable).
"""

from __future__ import annotations

from typing import Any

WIDTH = 100
MIN_LABEL = 10  # a label column is never cut below this


def fmt_value(v: Any) -> str:
    """Four significant digits, no exponent for the magnitudes benchmarks produce."""
    if v is None:
        return "-"
    if not isinstance(v, (int, float)):
        return str(v)
    a = abs(v)
    if a >= 10_000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    if a == 0:
        return "0"
    return f"{v:.3g}"


def fmt_ratio(r: float | None) -> str:
    return "-" if r is None else f"{r:.2f}×"


def fmt_budget(row: dict[str, Any]) -> str:
    if row.get("budget") is None:
        return "-"
    sign = "≥" if row.get("higher_is_better") else "≤"
    return f"{'ok' if row.get('within_budget') else 'MISS'} {sign}{fmt_value(row['budget'])}"


def fmt_change(change: dict[str, Any] | None) -> str:
    """A row's comparison with the previous run: ratio (> 1 = better now), ▼ for a regression."""
    if change is None:
        return "new"
    return f"{change['ratio']:.2f}×{' ▼' if change['regression'] else ''}"


class _Footnotes:
    def __init__(self) -> None:
        self.texts: list[str] = []

    def cut(self, text: str, width: int) -> str:
        if len(text) <= width:
            return text
        if text in self.texts:
            n = self.texts.index(text) + 1
        else:
            self.texts.append(text)
            n = len(self.texts)
        mark = f"[{n}]"
        return text[: max(1, width - len(mark) - 1)].rstrip() + "…" + mark


def render_table(title: str, rows: list[dict[str, Any]], changes: list[dict | None] | None = None,
                 width: int = WIDTH) -> str:
    """The rows of one suite as text: a block per unit, footnotes after the last block."""
    notes = _Footnotes()
    blocks = [title]
    units: list[str] = []
    for r in rows:
        if r.get("unit", "ms") not in units:
            units.append(r.get("unit", "ms"))
    for unit in units:
        if len(blocks) > 1:
            blocks.append("")
        picked = [(i, r) for i, r in enumerate(rows) if r.get("unit", "ms") == unit]
        has_base = any(r.get("baseline") or r.get("baseline_value") is not None for _, r in picked)
        has_budget = any(r.get("budget") is not None for _, r in picked)
        header = ["case", "ours", unit]
        cells = [[r["case"], r.get("ours") or "", fmt_value(r.get("value"))] for _, r in picked]
        labels = [0, 1]
        if has_base:
            header += ["baseline", unit, "speedup"]
            labels.append(3)
            for c, (_, r) in zip(cells, picked):
                c += [r.get("baseline") or "-", fmt_value(r.get("baseline_value")), fmt_ratio(r.get("speedup"))]
        if has_budget:
            header.append("budget")
            for c, (_, r) in zip(cells, picked):
                c.append(fmt_budget(r))
        if changes is not None:
            header.append("vs prev")
            for c, (i, _) in zip(cells, picked):
                c.append(fmt_change(changes[i]))
        widths = [max(len(h), *(len(c[j]) for c in cells)) for j, h in enumerate(header)]
        # shrink the widest label column until the table fits (or every label is at its minimum)
        while sum(widths) + 2 * (len(widths) - 1) > width:
            j = max(labels, key=lambda k: widths[k])
            if widths[j] <= MIN_LABEL:
                break
            widths[j] -= 1
        for c in cells:
            for j in labels:
                c[j] = notes.cut(c[j], widths[j])
        right = {j for j, h in enumerate(header) if h not in ("case", "ours", "baseline")}

        def line(values: list[str]) -> str:
            return "  ".join(v.rjust(widths[j]) if j in right else v.ljust(widths[j])
                             for j, v in enumerate(values)).rstrip()

        blocks.append(line(header))
        blocks.append("  ".join("-" * w for w in widths))
        blocks.extend(line(c) for c in cells)
    for n, text in enumerate(notes.texts, 1):
        blocks.append(f"[{n}] {text}")
    return "\n".join(blocks)
