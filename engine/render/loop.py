"""The render thread of one ``AvatarView``.

The thread owns everything a frame needs — the window, the renderer (and so its GL/wgpu
context), the preparer and the pose buffer — and is the only thread that touches them. The
view talks to it through :class:`ViewState` (what to draw) and frame requests (futures that
the next frame fulfils with its pixels). It holds only a weak reference to the view, so a view
that is dropped without ``dispose()`` is collected and its finalizer stops this thread.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future
from typing import Any, Callable

import attrs
import numpy as np

from ..enums import RenderQuality
from .bounds import frame_bounds
from .camera import AvatarTransform, intrinsics, look_at_viewmat
from .quality import backing_size, sh_degree, splat_budget

log = logging.getLogger("facecast.render")

# What one frame's arithmetic can raise: ZeroDivisionError (numba checks divisors), ValueError
# (math domain errors), and SystemError, which is how numba surfaces either from inside a parallel
# kernel. Anything else is a real fault of the renderer and still stops the loop.
NUMERIC_FAILURES = (ArithmeticError, ValueError, SystemError)


@attrs.define
class ViewState:
    """What the view wants drawn; written by API threads under ``RenderLoop.cond``."""

    camera: Any
    transform: AvatarTransform
    quality: RenderQuality
    cap_enabled: bool
    cap_height: int
    enabled: bool = True
    background: tuple[float, float, float] = (0.0, 0.0, 0.0)
    version: int = 0


class RenderLoop:
    def __init__(self, view_ref: Callable[[], Any], avatar: Any, container: Any, renderer: Any,
                 state: ViewState, on_first_frame: Callable[[], None], preparer_factory: Callable[..., Any]) -> None:
        self._view_ref = view_ref
        self._avatar = avatar
        self._container = container
        self._renderer = renderer
        self._make_preparer = preparer_factory
        self.state = state
        self.cond = threading.Condition()
        self._requests: list[Future] = []
        self._stop = False
        self._on_first_frame = on_first_frame
        self.frames_drawn = 0
        self.frames_dropped = 0  # frames skipped because their numbers failed (see _drop_frame)
        self.render_size: tuple[int, int] | None = None
        self.bounds: tuple[float, float, float, float] | None = None  # container pixels
        self.last_rgba: np.ndarray | None = None
        self.error: BaseException | None = None
        self.window_closed = False
        self.ready = threading.Event()
        self._window = container if hasattr(container, "_open") else None
        self.thread = threading.Thread(target=self._run, name="facecast-view-render", daemon=True)
        self.thread.start()

    # -- API side --------------------------------------------------------------------------------

    def update(self, **changes: Any) -> None:
        with self.cond:
            for k, v in changes.items():
                setattr(self.state, k, v)
            self.state.version += 1
            self.cond.notify_all()

    def request_frame(self) -> Future:
        """A future for the pixels (uint8 RGBA copy) of the next frame drawn."""
        fut: Future = Future()
        with self.cond:
            if self._stop or self.error is not None:
                fut.set_exception(RuntimeError("the view's render loop has stopped"))
                return fut
            self._requests.append(fut)
            self.cond.notify_all()
        return fut

    def stop(self, timeout: float = 10.0) -> None:
        with self.cond:
            self._stop = True
            self.cond.notify_all()
        if self.thread is not threading.current_thread():
            self.thread.join(timeout)
            if self.thread.is_alive():
                log.error("render thread did not stop within %.0f s", timeout)

    # -- render thread ---------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            try:
                self._setup()
            except BaseException as exc:
                self.error = exc  # set before ready, so the view's constructor sees it
                raise
            finally:
                self.ready.set()
            self._loop()
        except BaseException as exc:  # reported to waiters and logged; never raised through the app
            self.error = exc
            log.exception("render loop failed")
        finally:
            self.ready.set()
            with self.cond:
                pending, self._requests = self._requests, []
                self._stop = True
            for fut in pending:
                if not fut.done():
                    fut.set_exception(RuntimeError(f"the view stopped rendering: {self.error or 'disposed'}"))
            self._teardown()

    def _setup(self) -> None:
        w, h = self._target_size()
        handle = self._window._open(getattr(self._renderer, "glfw_hints", {})) if self._window else None
        self._renderer.open(w, h, window=handle)
        self.render_size = (w, h)
        self._pose = np.zeros(self._avatar.idle.shape[1], np.float32)
        self._bounds_buf = np.zeros(4, np.float64)
        self._camera_key = None
        self._budget = splat_budget(self._avatar.gaussians.count, self.state.quality)
        self._sh_degree = sh_degree(self.state.quality)
        self._preparer = self._make_preparer(self._avatar.head, self._avatar.gaussians, max_splats=self._budget,
                                             sh_degree=self._sh_degree)

    def _teardown(self) -> None:
        try:
            self._renderer.close()
        except Exception:
            log.exception("closing the renderer failed")
        if self._window is not None:
            try:
                self._window._close()
            except Exception:
                log.exception("closing the window failed")
        self._preparer = None

    def _target_size(self) -> tuple[int, int]:
        if self._window is not None and self._window.handle is not None:
            cw, ch = self._window._framebuffer_size()
        else:
            cw, ch = self._container.size()
        s = self.state
        size = backing_size(max(cw, 1), max(ch, 1), s.quality, s.cap_enabled, s.cap_height)
        return size.width, size.height

    def _period(self) -> float | None:
        if self._window is not None:
            return 1.0 / self._window._refresh_rate()
        fps = getattr(self._container, "fps", None)
        return 1.0 / fps if fps else None

    def _loop(self) -> None:
        period = self._period()
        next_due = time.monotonic()
        while True:
            with self.cond:
                while not self._stop:
                    now = time.monotonic()
                    paced = self.state.enabled and period is not None
                    if self._requests or (self.state.enabled and self.frames_drawn == 0) or (paced and now >= next_due):
                        break
                    timeout = (next_due - now) if paced else None
                    if self._window is not None:  # keep processing window events while idle
                        self.cond.wait(0.05 if timeout is None else min(timeout, 0.05))
                        break
                    self.cond.wait(timeout)
                if self._stop:
                    return
                requests, self._requests = self._requests, []
                state = attrs.evolve(self.state)
            if self._window is not None and not self._window._poll():
                self.window_closed = True  # the user closed it: stop drawing, answer waiters with None
                with self.cond:
                    self.state.enabled = False
                state.enabled = False
            now = time.monotonic()
            if not state.enabled:
                for fut in requests:
                    fut.set_result(None)
                continue
            if requests or self.frames_drawn == 0 or (period is not None and now >= next_due):
                self._tick(state, requests)
                if period is not None:
                    next_due = max(next_due + period, now)  # after a stall, do not race to catch up

    def _prepare(self, view, state: ViewState, w: int, h: int):
        key = (state.version, w, h)
        if key != self._camera_key:  # camera matrices change only with the state or the size
            self._viewmat = look_at_viewmat(state.camera)
            self._K = intrinsics(state.camera, w, h, state.transform)
            self._camera_key = key
        if view is not None:
            view.controller.frame_pose(self._pose)
        return self._preparer(self._pose, self._viewmat, self._K, w, h)

    def _drop_frame(self, exc: BaseException, state: ViewState, requests: list[Future], w: int, h: int):
        """One frame's numbers failed: skip it, say so once, and keep rendering the next ones.

        Waiters get the last frame read back if there is one; otherwise (and for a view's very
        first frame) the rest pose, validated when the avatar loaded, is drawn instead, so
        ``render_frame`` never waits out its timeout. Returns the frame to draw, or None.
        """
        self.frames_dropped += 1
        if self.frames_dropped == 1:
            log.warning("a frame could not be prepared and was dropped (%s: %s); rendering continues",
                        type(exc).__name__, exc, exc_info=exc)
        if not requests and self.frames_drawn:
            return None
        if self.last_rgba is not None:
            for fut in requests:
                if not fut.done():
                    fut.set_result(self.last_rgba)
            requests.clear()
            return None
        self._pose[:] = 0.0
        return self._prepare(None, state, w, h)

    def _tick(self, state: ViewState, requests: list[Future]) -> None:
        w, h = self._target_size()
        if (w, h) != self.render_size:
            self._renderer.resize(w, h)
            self.render_size = (w, h)
        budget, degree = splat_budget(self._avatar.gaussians.count, state.quality), sh_degree(state.quality)
        if (budget, degree) != (self._budget, self._sh_degree):
            self._budget, self._sh_degree = budget, degree
            self._preparer = self._make_preparer(self._avatar.head, self._avatar.gaussians, max_splats=budget,
                                                 sh_degree=degree)
        view = self._view_ref()
        if view is None:
            self._stop = True
            return
        try:
            frame = self._prepare(view, state, w, h)
        except NUMERIC_FAILURES as exc:
            frame = self._drop_frame(exc, state, requests, w, h)
            if frame is None:
                return
        finally:
            del view
        self._renderer.draw(frame, state.background)
        cw, ch = self._container.size()
        if frame_bounds(frame, self._bounds_buf):
            sx, sy = cw / w, ch / h
            x0, y0, x1, y1 = self._bounds_buf
            self.bounds = (float(x0 * sx), float(y0 * sy), float((x1 - x0) * sx), float((y1 - y0) * sy))
        else:
            self.bounds = None
        if requests:
            rgba = np.array(self._renderer.read_rgba(), copy=True)
            self.last_rgba = rgba
            for fut in requests:
                if not fut.done():
                    fut.set_result(rgba)
        self.frames_drawn += 1
        if self.frames_drawn == 1:
            self._on_first_frame()
