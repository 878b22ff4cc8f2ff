"""The render-backend contract."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs
import numpy as np

if TYPE_CHECKING:
    from ..prepare.frame import PreparedFrame


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

    Made by ``factory() -> Renderer`` (the ``register_renderers`` hook), one per view. An app
    picks a renderer with ``Configuration(renderer="name")``; by default ``device_score()`` picks
    the fastest available one.

    Rules (``facecast conformance --renderer NAME`` checks each one a test can observe;
    docs/plugins.md maps every rule to its check):

    1. All calls come from one thread (the view's render thread, or ``render_splats``'s worker
       for this backend); the renderer owns its context there and creates it in ``open``.
    2. ``open(width, height, window=None)`` creates the target: offscreen when ``window`` is
       None, else presenting to the given glfw window handle. A renderer that can present sets
       the class attribute ``glfw_hints`` (glfw hint name → value name or int, e.g.
       ``{"CLIENT_API": "NO_API"}``); the window is created with those hints before ``open``.
       A renderer without ``glfw_hints`` is offscreen-only.
    3. ``draw(frame, background)`` takes a ``PreparedFrame`` (``engine.kit``) and composites
       exactly its ``order[:count]`` splats, with this frame's colours (nothing is kept from an
       earlier frame), front to back with gsplat's rules: pixel centres at
       +0.5; σ = ½(a·dx² + c·dy²) + b·dx·dy from the frame's conic; α = min(0.999, o·e^(−σ));
       a splat whose α < 1/255 at a pixel is skipped there; a splat that would take the
       transmittance T to ≤ 1e-4 is not drawn and ends that pixel. RGB = Σ c·α·T + T·background,
       A = 1 − T.
    4. A splat covers exactly the pixels whose centre lies within ``radii`` of its mean in x and
       in y (a square box; nothing outside it, whatever the conic says).
    5. A renderer whose blend unit cannot end a pixel early declares the class attribute
       ``stops_at_min_transmittance = False``; it then composites that last splat fully (the
       "under" operator) and is checked against that instead of rule 3's stop.
    6. It resizes itself if the frame's size differs, draws just the background for an empty
       frame, and after warm-up ``draw`` allocates nothing per frame (buffers are reused; what
       the driver does inside is not counted).
    7. ``read_float()`` returns the last frame as float32 (H, W, 4) RGBA, top row first, and
       ``read_rgba()`` the same image as uint8 (× 255, rounded); both are the renderer's
       buffers, valid until its next call. Reading waits for the frame to finish.
    8. Through ``render_splats(..., backend=name)`` every canonical scene matches the ``cpu``
       reference (PSNR ≥ 40 dB, mean absolute error ≤ 2/255), and input with NaNs is refused
       with ``AvatarError`` before the renderer sees it.
    9. ``close()`` releases every GPU object and is idempotent.
    """

    name: str

    def open(self, width: int, height: int, window: Any = None) -> None: ...

    def resize(self, width: int, height: int) -> None: ...

    def draw(self, frame: PreparedFrame, background: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> None: ...

    def read_float(self) -> np.ndarray: ...

    def read_rgba(self) -> np.ndarray: ...

    def close(self) -> None: ...
