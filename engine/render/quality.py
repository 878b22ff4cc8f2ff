"""Render quality tiers and the resolution cap: from a container size to the backing-buffer size."""

from __future__ import annotations

import attrs

from ..enums import RenderQuality


@attrs.frozen
class QualityTier:
    """Concrete knobs of one tier: backing-buffer scale, the share of Gaussians drawn, and the highest
    spherical-harmonic degree of view-dependent colour (capped by what the avatar carries)."""

    resolution_scale: float
    splat_fraction: float
    sh_degree: int = 0


TIERS = {
    RenderQuality.standard: QualityTier(resolution_scale=0.5, splat_fraction=0.5, sh_degree=0),
    RenderQuality.high: QualityTier(resolution_scale=0.75, splat_fraction=0.75, sh_degree=1),
    RenderQuality.ultra: QualityTier(resolution_scale=1.0, splat_fraction=1.0, sh_degree=3),
}


@attrs.frozen
class RenderSize:
    """Backing-buffer size in pixels."""

    width: int
    height: int


def backing_size(width: int, height: int, quality: RenderQuality, cap_enabled: bool, max_height: int) -> RenderSize:
    """The render-target size for a ``width``×``height`` container: tier scale, then the height cap,
    keeping the aspect ratio; never below 1×1."""
    scale = TIERS[quality].resolution_scale
    if cap_enabled and height * scale > max_height:
        scale = max_height / height
    return RenderSize(max(1, round(width * scale)), max(1, round(height * scale)))


def splat_budget(count: int, quality: RenderQuality) -> int | None:
    """How many Gaussians the preparer may draw (None = all)."""
    fraction = TIERS[quality].splat_fraction
    return None if fraction >= 1.0 else max(1, int(count * fraction))


def sh_degree(quality: RenderQuality) -> int:
    """The highest SH degree the tier evaluates (the preparer caps it at the avatar's own)."""
    return TIERS[quality].sh_degree
