"""pytest plugin entry point of the conformance suite (registered as `pytest11`)."""

from __future__ import annotations


def pytest_addoption(parser):
    group = parser.getgroup("facecast", "Facecast plugin conformance")
    group.addoption("--facecast-renderer", action="append", default=[], metavar="NAME",
                    help="renderer plugin(s) to check against the cpu reference (default: all available)")
