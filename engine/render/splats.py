"""``render_splats``: draw raw 3D Gaussians with gsplat's conventions, through any backend.

Each backend gets one worker thread that owns its renderer and projector for the life of the
process (one render thread per GL/wgpu context), so repeated calls reuse the device, the
pipelines and the buffers.
"""

from __future__ import annotations

import atexit
import math
import queue
import threading
from concurrent.futures import Future
from typing import Any, Callable

import numpy as np

from ..errors import AvatarError, ErrorCode
from .backends import make_renderer

MAX_SIZE = 16384


def _splat_input_error(message: str) -> AvatarError:
    return AvatarError(ErrorCode.playbackInitFailed, message)


def _array(name: str, value: Any, shape: tuple, n: int | None) -> np.ndarray:
    try:
        arr = np.ascontiguousarray(value, dtype=np.float32)
    except (TypeError, ValueError):
        raise _splat_input_error(f"{name} must be an array of numbers, not {type(value).__name__}") from None
    want = tuple(n if s is None else s for s in shape)
    if arr.shape != want:
        spelled = "(" + ", ".join("N" if s is None else str(s) for s in shape) + ")"
        raise _splat_input_error(f"{name} must have shape {spelled}" + (f" with N = {n}" if n is not None else "")
                                 + f", got {arr.shape}")
    if not np.isfinite(arr).all():
        bad = int(np.count_nonzero(~np.isfinite(arr)))
        raise _splat_input_error(f"{name} holds {bad} NaN or infinite value(s); remove or fix those splats")
    return arr


def validate_splats(means, quats, scales, opacities, colors, viewmat, K, width, height, background):
    """Check every input; returns float32 contiguous arrays, or raises AvatarError saying what is wrong."""
    means = np.asarray(means) if not isinstance(means, np.ndarray) else means
    if means.ndim != 2 or means.shape[-1] != 3:
        raise _splat_input_error(f"means must have shape (N, 3), got {np.shape(means)}")
    n = means.shape[0]
    means = _array("means", means, (None, 3), n)
    quats = _array("quats", quats, (None, 4), n)
    scales = _array("scales", scales, (None, 3), n)
    opacities = _array("opacities", opacities, (None,), n)
    colors = _array("colors", colors, (None, 3), n)
    viewmat = _array("viewmat", viewmat, (4, 4), None)
    K = _array("K", K, (3, 3), None)
    if n and (np.linalg.norm(quats, axis=1) < 1e-12).any():
        raise _splat_input_error("quats holds zero-length quaternion(s); "
                                 "each row is (w, x, y, z) and is normalised inside")
    if (scales < 0).any():
        raise _splat_input_error("scales must be >= 0 (linear scales, not log-scales)")
    if ((opacities < 0) | (opacities > 1)).any():
        raise _splat_input_error("opacities must lie in [0, 1] (apply the sigmoid to logits first)")
    if not np.allclose(viewmat[3], (0, 0, 0, 1), atol=1e-6):
        raise _splat_input_error("viewmat's last row must be (0, 0, 0, 1) (a rigid world→camera matrix), "
                                 f"got {viewmat[3].tolist()}")
    if K[0, 0] <= 0 or K[1, 1] <= 0 or not np.allclose(K[2], (0, 0, 1)):
        raise _splat_input_error("K must be pixel intrinsics [[fx, 0, cx], [0, fy, cy], [0, 0, 1]] with fx, fy > 0")
    for name, v in (("width", width), ("height", height)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 1 <= v <= MAX_SIZE:
            raise _splat_input_error(f"{name} must be a whole number of pixels in 1..{MAX_SIZE}, not {v!r}")
    try:
        bg = tuple(float(c) for c in background)
    except (TypeError, ValueError):
        raise _splat_input_error(f"background must be three numbers (r, g, b) in [0, 1], not {background!r}") from None
    if len(bg) != 3 or not all(math.isfinite(c) and 0 <= c <= 1 for c in bg):
        raise _splat_input_error(f"background must be three numbers (r, g, b) in [0, 1], not {background!r}")
    return means, quats, scales, opacities, colors, viewmat, K, int(width), int(height), bg


class _BackendWorker:
    """A daemon thread that owns one backend's renderer and a projector and runs jobs in order.

    (Not a ThreadPoolExecutor: its workers refuse jobs once interpreter shutdown starts, and the
    renderer must still be closed on its own thread from our atexit hook.)
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.renderer = None
        self.projector = None
        self.size = (0, 0)
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name=f"facecast-render-{name}", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            fn, args, fut = job
            if fut.set_running_or_notify_cancel():
                try:
                    fut.set_result(fn(*args))
                except BaseException as exc:
                    fut.set_exception(exc)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        fut: Future = Future()
        self._jobs.put((fn, args, fut))
        return fut

    def render(self, args) -> np.ndarray:
        means, quats, scales, opacities, colors, viewmat, K, width, height, bg = args
        from ..prepare import SplatProjector

        n = means.shape[0]
        if self.projector is None or getattr(self.projector, "capacity", 0) < n:
            self.projector = SplatProjector(max(n, 1))
        frame = self.projector(means, quats, scales, opacities, colors, viewmat, K, width, height)
        if self.renderer is None:
            renderer = make_renderer(self.name)
            renderer.open(width, height)
            self.renderer, self.size = renderer, (width, height)
        elif self.size != (width, height):
            self.renderer.resize(width, height)
            self.size = (width, height)
        self.renderer.draw(frame, bg)
        return np.array(self.renderer.read_float(), dtype=np.float32, copy=True)

    def close(self) -> None:
        def release():
            if self.renderer is not None:
                self.renderer.close()
                self.renderer = None

        try:
            self.submit(release).result(timeout=10)
        finally:
            self._jobs.put(None)
            self._thread.join(10)


_workers: dict[str, _BackendWorker] = {}
_lock = threading.Lock()


def render_splats(means, quats, scales, opacities, colors, viewmat, K, width, height, *,
                  backend: str = "cpu", background=(0.0, 0.0, 0.0)) -> np.ndarray:
    """Render N 3D Gaussians; returns float32 ``(height, width, 4)``: RGB over ``background``, A = 1 − T.

    gsplat's conventions: ``means`` (N, 3) world positions; ``quats`` (N, 4) as (w, x, y, z),
    normalised here; ``scales`` (N, 3) linear; ``opacities`` (N,) in [0, 1]; ``colors`` (N, 3) RGB;
    ``viewmat`` the 4×4 world→camera matrix (OpenCV: +x right, +y down, +z forward); ``K`` the 3×3
    pixel intrinsics (pixel centres at +0.5). ``backend`` names a registered renderer (``cpu``,
    ``wgpu``, ``opengl`` or a plugin's). Bad input raises ``AvatarError`` naming the argument.
    """
    args = validate_splats(means, quats, scales, opacities, colors, viewmat, K, width, height, background)
    with _lock:
        worker = _workers.get(backend)
        if worker is None:
            from .backends import backend_names

            if backend not in backend_names():
                make_renderer(backend)  # raises the AvatarError listing the installed renderers
            worker = _workers[backend] = _BackendWorker(backend)
    return worker.submit(worker.render, args).result()


def shutdown() -> None:
    """Release every backend's renderer and worker thread (also runs at interpreter exit)."""
    with _lock:
        workers = list(_workers.values())
        _workers.clear()
    for worker in workers:
        worker.close()


atexit.register(shutdown)
