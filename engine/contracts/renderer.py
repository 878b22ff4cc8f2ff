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
    - All calls come from one thread (the view's render thread, or ``render_splats``'s worker
      for this backend); the renderer owns its context there and creates it in ``open``.
    - ``open(width, height, window=None)`` creates the target: offscreen when ``window`` is
      None, else presenting to the given glfw window handle. A renderer that can present sets
      the class attribute ``glfw_hints`` (glfw hint name → value name or int, e.g.
      ``{"CLIENT_API": "NO_API"}``); the window is created with those hints before ``open``.
      A renderer without ``glfw_hints`` is offscreen-only.
    - ``draw(frame, background)`` takes an ``engine.prepare.PreparedFrame`` and composites
      exactly its ``order[:count]`` splats front to back with gsplat's rules (pixel centres at
      +0.5, α = min(0.999, o·e^(−σ)), skip α < 1/255, stop at T ≤ 1e-4), covering the pixels
      whose centre lies within ``radii`` of the mean in x and y. RGB = Σ c·α·T + T·background,
      A = 1 − T. It resizes itself if the frame's size differs, must not allocate per frame
      beyond what the driver does, and draws just the background for an empty frame.
    - ``read_float()`` returns the last frame as float32 (H, W, 4), top row first, and
      ``read_rgba()`` the same as uint8 (rounded); both are the renderer's buffers, valid until
      its next call. Reading waits for the frame to finish.
    - ``close()`` releases every GPU object and is idempotent.
    """

    name: str

    def open(self, width: int, height: int, window: Any = None) -> None: ...

    def resize(self, width: int, height: int) -> None: ...

    def draw(self, frame: Any, background: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> None: ...

    def read_float(self) -> np.ndarray: ...

    def read_rgba(self) -> np.ndarray: ...

    def close(self) -> None: ...
