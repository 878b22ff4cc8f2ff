"""Built-in ``cpu`` render backend: the numba tile rasterizer (gsplat's rules, the reference)."""

from __future__ import annotations

import engine
from engine.kit import ProbeResult


def probe() -> ProbeResult:
    """Always available: numba compiles for the host CPU."""
    import os

    return ProbeResult(available=True, gpu=False, reason=f"numba on {os.cpu_count()} CPU cores")


def make_renderer():
    from .renderer import CpuRenderer

    return CpuRenderer()


@engine.hookimpl
def register_renderers(register):
    register("cpu", make_renderer, probe)
