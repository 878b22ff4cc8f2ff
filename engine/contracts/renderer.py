"""The render-backend contract."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import attrs
import numpy as np


@attrs.frozen
class ProbeResult:
    """Whether a backend can run here; ``reason`` says why not, or what it runs on."""

    available: bool
    gpu: bool
    reason: str = ""


@attrs.frozen
class BackendScore:
    """One backend's measured cost on the real workload (device score)."""

    name: str
    available: bool
    gpu: bool
    ms_per_frame: float | None
    reason: str = ""


@runtime_checkable
class Renderer(Protocol):
    """Draws prepared (projected, depth-sorted) splats into a target.

    Rules:
    - All calls come from one thread (the view's render thread); the renderer
      owns its context there.
    - ``open(width, height, window=None)`` creates the target: offscreen when
      ``window`` is None, else presenting to the given glfw window handle.
    - ``draw(frame)`` takes an ``engine.prepare.PreparedFrame`` and draws exactly
      its sorted splats front to back with gsplat's compositing rules; it must not
      allocate per frame beyond what the driver does, and must not raise through
      the render loop for a bad frame (an empty frame draws the background).
    - ``read_rgba()`` returns the last frame as ``uint8 (H, W, 4)``, straight alpha.
    - ``close()`` releases every GPU object and is idempotent.
    """

    name: str

    def open(self, width: int, height: int, window: Any = None) -> None: ...

    def resize(self, width: int, height: int) -> None: ...

    def draw(self, frame: Any, background: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> None: ...

    def read_rgba(self) -> np.ndarray: ...

    def close(self) -> None: ...
