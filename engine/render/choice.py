"""Which backend draws: the device-score rule and the per-view default."""

from __future__ import annotations

import logging

from ..contracts.renderer import BackendScore
from ..plugins import get_plugin_manager

log = logging.getLogger("facecast.render")

GPU_MARGIN = 0.10  # a GPU backend wins when within 10 % of the fastest
WINDOW_BACKENDS = ("wgpu", "opengl")  # built-in backends that can present to a glfw window


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


def backend_for_view(window: bool) -> str:
    """The renderer a new view uses when none is forced: configuration, then device score, then defaults."""
    from ..sdk import AvatarSDK

    config = AvatarSDK.configuration
    if config is not None and config.renderer:
        return config.renderer
    score = AvatarSDK._device_score
    if score is not None and score.backend:
        if not window or score.backend in WINDOW_BACKENDS:
            return score.backend
        ranked = sorted((s for s in score.scores if s.available and s.ms_per_frame and s.name in WINDOW_BACKENDS),
                        key=lambda s: s.ms_per_frame)
        if ranked:
            return ranked[0].name
    if not window:
        return "cpu"  # the measured fastest on machines without a GPU; device_score() refines this
    registry = get_plugin_manager().registry["renderers"]
    for name in WINDOW_BACKENDS:
        if name in registry:
            try:
                if registry[name].probe().available:
                    return name
            except Exception:
                log.exception("probing %s failed", name)
    return WINDOW_BACKENDS[0]
