"""``AvatarView``: draws an avatar into a ``Window`` or ``Offscreen`` container (the seed's AvatarView)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable
from typing import Any

import attrs
import numpy as np

from ..avatar.model import CameraConfig
from ..enums import RenderQuality
from ..errors import AvatarError, ErrorCode
from ..runtime import runtime
from .camera import AvatarTransform, validate_camera
from .choice import backend_for_view
from .containers import Offscreen, Window
from .loop import RenderLoop, ViewState
from .png import encode_png, straight_alpha
from .quality import RenderSize

log = logging.getLogger("facecast.render")

SETUP_TIMEOUT_S = 60.0  # opening a window and a GPU context (pipeline compiles on software drivers)


@attrs.frozen
class Rect:
    """Bounds in container pixels (origin top-left, +y down)."""

    x: float
    y: float
    width: float
    height: float


def _stop_loop(loop: RenderLoop) -> None:
    """Finalizer shared by ``dispose()`` and garbage collection. It must not reach the view (the
    controller points back at the view, so it is disposed by ``dispose()``, or collected with it)."""
    loop.stop()
    loop._container.attached = False


class AvatarView:
    """Renders ``avatar`` into ``container`` on its own render thread.

    ``backend`` (not in the seed) forces a renderer; by default the configuration's
    ``renderer``, else the device score's choice, else ``cpu`` offscreen and the first GPU-API
    backend that probes available for windows. Callbacks (``on_first_rendering``) run on the
    asyncio loop the view was created on, or on the render thread when there was none.
    """

    def __init__(self, avatar: Any, container: Window | Offscreen, *, backend: str | None = None) -> None:
        from ..avatar.avatar import Avatar

        if not isinstance(avatar, Avatar):
            raise AvatarError(ErrorCode.animationPlayerNotInitialized,
                              f"AvatarView needs an Avatar from AvatarManager.shared.load(...), not {type(avatar).__name__}")
        if not isinstance(container, (Window, Offscreen)):
            raise AvatarError(ErrorCode.playbackInitFailed,
                              f"container must be engine.Window(w, h, title) or engine.Offscreen(w, h), "
                              f"not {type(container).__name__}")
        w, h = container.size()
        if w == 0 or h == 0:
            raise AvatarError(ErrorCode.playbackInitFailed,
                              f"the container is {w}×{h}: it must have a non-zero width and height; "
                              "give it a size before creating the AvatarView")
        if container.attached:
            raise AvatarError(ErrorCode.playbackInitFailed,
                              "this container already has an AvatarView; dispose() that view first or use a new container")
        from ..playback.controller import AvatarController
        from ..prepare import AvatarPreparer

        self.avatar = avatar
        self.container = container
        self._backend = backend or backend_for_view(isinstance(container, Window))
        from .backends import make_renderer

        renderer = make_renderer(self._backend)
        if isinstance(container, Window) and not hasattr(renderer, "glfw_hints"):
            raise AvatarError(ErrorCode.playbackInitFailed,
                              f"the {self._backend!r} backend cannot present to a window (its renderer has no "
                              "glfw_hints); use cpu, wgpu or opengl, or an Offscreen container")
        self.controller = AvatarController(avatar, self)
        try:
            self._app_loop = asyncio.get_running_loop()
        except RuntimeError:
            self._app_loop = None
        self.on_first_rendering: Callable[[], Any] | None = None
        self._first_rendered = threading.Event()
        self_ref = weakref.ref(self)
        sdk = runtime()
        config = sdk.configuration
        state = ViewState(camera=validate_camera(avatar.camera), transform=AvatarTransform(),
                          quality=config.render_quality if config else RenderQuality.ultra,
                          cap_enabled=sdk.render_resolution_cap_enabled,
                          cap_height=sdk.render_resolution_max_height)
        container.attached = True
        self._disposed = False
        self._render = RenderLoop(self_ref, avatar, container, renderer, state,
                                  _FirstFrame(self_ref), AvatarPreparer)
        self._finalizer = weakref.finalize(self, _stop_loop, self._render)
        # Wait for the render thread to open its window and context, so a missing display or
        # driver is reported here rather than lost on another thread; frames then run on their own.
        if not self._render.ready.wait(SETUP_TIMEOUT_S) or self._render.error is not None:
            error = self._render.error
            self._disposed = True
            self._finalizer()
            self.controller.dispose()
            if isinstance(error, AvatarError):
                raise error
            raise AvatarError(ErrorCode.playbackInitFailed,
                              f"the {self._backend} renderer could not start: "
                              f"{error or f'no answer within {SETUP_TIMEOUT_S:.0f} s'}")
        runtime().views.add(self)  # AvatarSDK tells it of reconfiguration and disposes it on cleanup()

    # -- the seed's members ---------------------------------------------------------------------

    @property
    def backend(self) -> str:
        """The renderer this view draws with."""
        return self._backend

    @property
    def avatar_transform(self) -> AvatarTransform:
        return self._render.state.transform

    @avatar_transform.setter
    def avatar_transform(self, value: Any) -> None:
        self._check_alive()
        self._render.update(transform=AvatarTransform.coerce(value))

    @property
    def render_size(self) -> RenderSize:
        """The backing-buffer size in pixels (container size × quality scale, under the cap)."""
        size = self._render.render_size or self._render._target_size()
        return RenderSize(*size)

    def get_camera_config(self) -> CameraConfig:
        return self._render.state.camera

    def update_camera_config(self, camera: CameraConfig | dict | None = None, **fields: Any) -> None:
        """Replace the camera, or change some of its fields: ``update_camera_config(fov=35)``."""
        self._check_alive()
        current = self._render.state.camera
        if isinstance(camera, CameraConfig):
            new = attrs.evolve(camera, **fields)
        else:
            changes = {**(camera or {}), **fields}
            unknown = set(changes) - {f.name for f in attrs.fields(CameraConfig)}
            if unknown:
                raise AvatarError(ErrorCode.playbackInitFailed,
                                  f"unknown camera field(s) {sorted(unknown)}; CameraConfig has "
                                  f"{[f.name for f in attrs.fields(CameraConfig)]}")
            new = attrs.evolve(current, **changes)
        self._render.update(camera=validate_camera(new))

    def pause_rendering(self) -> None:
        self._render.update(enabled=False)

    def resume_rendering(self) -> None:
        self._check_alive()
        if self._render.window_closed:
            raise AvatarError(ErrorCode.playbackInitFailed, "the window was closed; create a new AvatarView")
        self._render.update(enabled=True)

    def is_rendering_enabled(self) -> bool:
        return not self._disposed and self._render.state.enabled and self._render.error is None

    def get_bounding_rect(self) -> Rect | None:
        """Bounds of the projected avatar in container pixels, or None before the first frame."""
        if self._disposed or self._render.frames_drawn == 0 or self._render.bounds is None:
            return None
        return Rect(*self._render.bounds)

    def export_bitmap(self, timeout: float = 10.0) -> bytes | None:
        """PNG bytes of the next rendered frame; None when the view is paused, disposed or failed.

        The PNG has straight alpha (the avatar over a transparent background), ready to composite.
        """
        rgba = self._next_frame(timeout)
        return None if rgba is None else encode_png(straight_alpha(rgba, self._render.state.background))

    def dispose(self) -> None:
        """Stop the render thread and release the renderer, its GPU objects, the window and the controller."""
        if self._disposed:
            return
        self._disposed = True
        self.on_first_rendering = None
        self._finalizer()
        try:
            self.controller.dispose()
        except Exception:
            log.exception("disposing the controller failed")

    # -- offscreen extras -----------------------------------------------------------------------

    def render_frame(self, timeout: float = 10.0) -> np.ndarray:
        """Render now and return the frame as uint8 RGBA (H, W, 4) (offscreen views)."""
        if not isinstance(self.container, Offscreen):
            raise AvatarError(ErrorCode.playbackInitFailed, "render_frame() is for Offscreen views; "
                              "use export_bitmap() on a Window view")
        self._check_alive()
        if not self._render.state.enabled:
            raise AvatarError(ErrorCode.playbackInitFailed, "rendering is paused; call resume_rendering() first")
        rgba = self._next_frame(timeout)
        if rgba is None:
            raise AvatarError(ErrorCode.playbackInitFailed, f"the view stopped rendering: {self._render.error}")
        return rgba

    async def frames(self, fps: float = 25.0, count: int | None = None) -> AsyncIterator[tuple[float, np.ndarray]]:
        """Yield ``(timestamp, rgba)`` at ``fps``: seconds since the first frame, and a uint8 (H, W, 4) copy.

        Frames are paced on the monotonic clock; if rendering falls behind, late frames are not
        queued up (the next one is rendered as soon as possible). Stops at ``count`` frames or on dispose.
        """
        if not isinstance(self.container, Offscreen):
            raise AvatarError(ErrorCode.playbackInitFailed, "frames() is for Offscreen views")
        if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0 < fps <= 1000:
            raise AvatarError(ErrorCode.playbackInitFailed, f"fps must be in (0, 1000], not {fps!r}")
        period = 1.0 / fps
        start = time.monotonic()
        slot = 0  # index of the next frame time on the fps grid
        yielded = 0
        while not self._disposed and (count is None or yielded < count):
            delay = start + slot * period - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            fut = self._render.request_frame()
            try:
                rgba = await asyncio.wrap_future(fut)
            except RuntimeError:
                return
            if rgba is None:  # paused
                await asyncio.sleep(period)
                continue
            yield time.monotonic() - start, rgba
            yielded += 1
            # next grid slot not already in the past: late frames are dropped, not queued
            slot = max(slot + 1, int((time.monotonic() - start) / period))

    # -- engine-internal ------------------------------------------------------------------------

    def _on_sdk_reconfigured(self) -> None:
        """The SDK's quality or resolution cap changed: apply on the next frame."""
        if self._disposed:
            return
        sdk = runtime()
        config = sdk.configuration
        self._render.update(quality=config.render_quality if config else RenderQuality.ultra,
                            cap_enabled=sdk.render_resolution_cap_enabled,
                            cap_height=sdk.render_resolution_max_height)

    def _check_alive(self) -> None:
        if self._disposed:
            raise AvatarError(ErrorCode.animationPlayerNotInitialized, "this AvatarView was disposed; create a new one")

    def _next_frame(self, timeout: float) -> np.ndarray | None:
        if self._disposed or not self._render.state.enabled:
            return None
        try:
            return self._render.request_frame().result(timeout)
        except Exception:
            return None

    def _fire_first_rendering(self) -> None:
        self._first_rendered.set()
        callback = self.on_first_rendering
        if callback is None:
            return
        if self._app_loop is not None and not self._app_loop.is_closed():
            self._app_loop.call_soon_threadsafe(_call_safely, callback)
        else:
            _call_safely(callback)

    def wait_first_rendering(self, timeout: float | None = None) -> bool:
        """Block until the first frame has been drawn (True) or ``timeout`` passes (False)."""
        return self._first_rendered.wait(timeout)

    def __repr__(self) -> str:
        state = "disposed" if self._disposed else ("rendering" if self.is_rendering_enabled() else "paused")
        return f"<AvatarView {self.avatar.id!r} on {self.container!r} via {self._backend} ({state})>"


class _FirstFrame:
    """Calls the view's first-frame hook through a weak reference (the render thread must not keep the view alive)."""

    def __init__(self, view_ref: Callable[[], AvatarView | None]) -> None:
        self._view_ref = view_ref

    def __call__(self) -> None:
        view = self._view_ref()
        if view is not None:
            view._fire_first_rendering()


def _call_safely(callback: Callable[[], Any]) -> None:
    try:
        callback()
    except Exception:
        log.exception("on_first_rendering callback raised")
