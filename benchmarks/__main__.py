"""Run a benchmark suite: ``python -m benchmarks NAME [options] [--json PATH] [--compare PREV.json]``
(or ``facecast bench NAME``); ``all`` runs every suite into one report."""

from __future__ import annotations

import sys

from .report import SUITES, run_suite

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        print("suites: " + ", ".join(SUITES) + ", all")
        sys.exit(0 if len(sys.argv) >= 2 else 2)
    sys.exit(run_suite(sys.argv[1], sys.argv[2:]))
