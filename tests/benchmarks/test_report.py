"""Benchmark plumbing: tables that fit 100 columns, --json, --compare, machine and versions in results."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from benchmarks import report as report_mod
from benchmarks.compare import compare_rows, load_suites
from benchmarks.table import render_table

LONG = "a case name far longer than any column of a table that has to fit into one hundred columns"


def _rows():
    r = report_mod.Report("demo", "t")
    r.add(LONG, "an implementation label that is also rather long", 12.3456, "a long baseline description", 50.0,
          budget=16.7)
    r.add("rate", "ours", 2000.0, "theirs", 100.0, unit="kf/s", higher_is_better=True)
    return r.rows


def test_table_fits_100_columns_and_moves_long_text_to_footnotes():
    text = render_table("title", _rows())
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert any(line.startswith("[1] ") and LONG in line for line in lines)
    assert any("ms" in line.split() and "kf/s" not in line for line in lines)  # units in the headers
    assert any("kf/s" in line.split() for line in lines)
    assert "ok ≤16.7" in text and "4.05×" in text and "20.00×" in text


def test_compare_marks_regressions_in_both_directions():
    rows = _rows()
    prev = [{"suite": "demo", "rows": [dict(rows[0], value=6.0), dict(rows[1], value=2100.0)]}]
    changes = compare_rows("demo", rows, prev, threshold=0.1)
    assert changes[0]["regression"] and changes[0]["ratio"] == pytest.approx(6.0 / 12.3456)
    assert not changes[1]["regression"] and changes[1]["ratio"] == pytest.approx(2000 / 2100)
    assert compare_rows("other", rows, prev) == [None, None]  # another suite's cases never match
    assert "▼" in render_table("t", rows, changes)


def test_load_suites_reads_both_file_kinds_and_rejects_others(tmp_path):
    one = tmp_path / "one.json"
    one.write_text(json.dumps({"suite": "s", "rows": []}))
    many = tmp_path / "all.json"
    many.write_text(json.dumps({"suites": [{"suite": "s", "rows": []}, {"suite": "t", "rows": []}]}))
    assert [s["suite"] for s in load_suites(one)] == ["s"]
    assert [s["suite"] for s in load_suites(many)] == ["s", "t"]
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    with pytest.raises(ValueError, match="not a benchmark result file"):
        load_suites(bad)
    with pytest.raises(ValueError, match="cannot read"):
        load_suites(tmp_path / "missing.json")


def test_emit_writes_json_with_machine_versions_and_comparison(tmp_path, monkeypatch, capsys):
    prev = tmp_path / "prev.json"
    prev.write_text(json.dumps({"suite": "demo", "rows": [dict(_rows()[0], value=24.69)]}))
    monkeypatch.setattr(report_mod.OUTPUT, "json_path", tmp_path / "out" / "r.json")
    monkeypatch.setattr(report_mod.OUTPUT, "compare_path", prev)
    r = report_mod.Report("demo", "t")
    r.rows = _rows()
    path = r.emit()
    doc = json.loads(path.read_text())
    assert doc["machine"]["cpus"] and "load_avg" in doc["machine"]
    assert doc["versions"]["numpy"] and doc["versions"]["numba"]
    assert doc["rows"][0]["vs_previous"]["ratio"] == pytest.approx(2.0, rel=1e-3)
    assert doc["rows"][1]["vs_previous"] is None
    out = capsys.readouterr().out
    assert "2.00×" in out and "new" in out


def test_cli_rejects_a_bad_compare_file_before_measuring(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text("{}")
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "motion", "--compare", str(bad)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "not a benchmark result file" in proc.stdout
