"""Built-in ``wgpu`` render backend: instanced splat quads on any WebGPU adapter (Vulkan, Metal, D3D12,
or Mesa's lavapipe in software)."""

from __future__ import annotations

import engine
from engine.kit import ProbeResult

_HARDWARE = {"DiscreteGPU", "IntegratedGPU", "VirtualGPU"}


def probe() -> ProbeResult:
    """Enumerate adapters without creating a device; a software adapter counts as CPU."""
    try:
        import wgpu

        adapters = wgpu.gpu.enumerate_adapters_sync()
    except Exception as exc:  # no driver, no loader: not available, and say why
        return ProbeResult(False, False, f"wgpu cannot start: {exc}")
    if not adapters:
        return ProbeResult(False, False, "wgpu found no adapter (install a Vulkan driver)")
    infos = [a.info for a in adapters]
    best = next((i for i in infos if i.get("adapter_type") in _HARDWARE), infos[0])
    gpu = best.get("adapter_type") in _HARDWARE
    kind = "hardware" if gpu else "software"
    return ProbeResult(True, gpu, f"{best.get('device', '?')} via {best.get('backend_type', '?')} ({kind})")


def make_renderer():
    from .renderer import WgpuRenderer

    return WgpuRenderer()


@engine.hookimpl
def register_renderers(register):
    register("wgpu", make_renderer, probe)
