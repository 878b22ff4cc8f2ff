"""Which backend draws: the device-score rule and the per-view default.

The rule (:func:`pick_backend`) is pure; :func:`backend_for_view` applies it to the process's
SDK state, read through ``engine.runtime`` (this floor never imports the SDK).
"""

from __future__ import annotations

import logging

from ..contracts.renderer import BackendScore
from ..plugins import get_plugin_manager
from ..runtime import runtime

log = logging.getLogger("facecast.render")

GPU_MARGIN = 0.10  # a GPU backend wins when within 10 % of the fastest


def pick_backend(scores: list[BackendScore]) -> tuple[str | None, str]:
    """``(name, reason)``: the ``choose_renderer`` hook's answer if any, else the fastest measured
    backend, preferring a GPU backend within :data:`GPU_MARGIN` of it."""
    usable = [s for s in scores if s.available and s.ms_per_frame is not None]
    override = get_plugin_manager().choose_renderer(scores)
    if override is not None:
        if any(s.name == override for s in usable):
            return override, f"chosen by a plugin's choose_renderer hook ({override})"
        log.warning("choose_renderer picked %r, which did not run here; ignoring it", override)
    if not usable:
        return None, "no backend could render here: " + "; ".join(f"{s.name}: {s.reason}" for s in scores)
    usable.sort(key=lambda s: s.ms_per_frame)
    fastest = usable[0]
    gpu = [s for s in usable if s.gpu and s.ms_per_frame <= fastest.ms_per_frame * (1 + GPU_MARGIN)]
    if gpu and gpu[0] is not fastest:
        g = gpu[0]
        return g.name, (f"{g.name} runs on a GPU and is within {GPU_MARGIN:.0%} of the fastest "
                        f"({g.ms_per_frame:.1f} ms vs {fastest.name} {fastest.ms_per_frame:.1f} ms per frame)")
    others = ", ".join(f"{s.name} {s.ms_per_frame:.1f} ms" for s in usable[1:])
    return fastest.name, (f"{fastest.name} is fastest at {fastest.ms_per_frame:.1f} ms per frame"
                          + (f" (vs {others})" if others else " (the only backend that ran)"))


def can_present(name: str) -> bool:
    """Whether backend ``name`` can draw into a window (its renderer class declares ``glfw_hints``)."""
    registration = get_plugin_manager().registry["renderers"].get(name)
    if registration is None:
        return False
    factory = registration.factory
    if isinstance(factory, type):
        return hasattr(factory, "glfw_hints")
    # A factory function hides the class; one renderer per factory tells (construction opens nothing).
    if factory not in _presents:
        _presents[factory] = hasattr(factory(), "glfw_hints")
    return _presents[factory]


_presents: dict[object, bool] = {}


def backend_for_view(window: bool) -> str:
    """The renderer a new view uses when none is forced: configuration, then device score, then defaults."""
    state = runtime()
    config = state.configuration
    if config is not None and config.renderer:
        return config.renderer
    score = state.device_score
    if score is not None and score.backend:
        if not window or can_present(score.backend):
            return score.backend
        ranked = sorted((s for s in score.scores if s.available and s.ms_per_frame and can_present(s.name)),
                        key=lambda s: s.ms_per_frame)
        if ranked:
            return ranked[0].name
    if not window:
        return "cpu"  # the measured fastest on machines without a GPU; device_score() refines this
    # cpu shows its frames through a wgpu surface; without a wgpu adapter use OpenGL's window path
    registry = get_plugin_manager().registry["renderers"]
    for name in ("cpu", "opengl") if "wgpu" in registry and _available("wgpu") else ("opengl",):
        if name in registry:
            return name
    return "cpu"


def _available(name: str) -> bool:
    try:
        return bool(get_plugin_manager().registry["renderers"][name].probe().available)
    except Exception:
        log.exception("probing %s failed", name)
        return False
