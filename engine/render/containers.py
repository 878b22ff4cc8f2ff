"""Where an ``AvatarView`` draws: a glfw ``Window`` or an ``Offscreen`` target.

A container is a plain description (size, title) until a view attaches to it; the view's render
thread then creates the real window with the hints its backend asks for (a GL context for
``opengl``, no client API for ``wgpu``) and owns it until ``dispose()``.
"""

from __future__ import annotations

import threading
from typing import Any

from ..errors import AvatarError, ErrorCode


def _size(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise AvatarError(ErrorCode.playbackInitFailed,
                          f"container {name} must be a whole number of pixels >= 0, not {value!r}")
    return value


class _Container:
    def __init__(self, width: int, height: int) -> None:
        self._width = _size("width", width)
        self._height = _size("height", height)
        self._lock = threading.Lock()
        self.attached = False

    @property
    def width(self) -> int:
        return self._width

    @property
    def height(self) -> int:
        return self._height

    def size(self) -> tuple[int, int]:
        """The current size (windows report what the user resized them to)."""
        with self._lock:
            return self._width, self._height

    def resize(self, width: int, height: int) -> None:
        """Change the size; an attached view picks it up on its next frame."""
        w, h = _size("width", width), _size("height", height)
        if w == 0 or h == 0:
            raise AvatarError(ErrorCode.playbackInitFailed,
                              f"cannot resize a container to {w}×{h}: width and height must be > 0")
        with self._lock:
            self._width, self._height = w, h
        self._on_resize(w, h)

    def _on_resize(self, width: int, height: int) -> None:
        pass


class Offscreen(_Container):
    """An invisible target of ``width``×``height`` pixels.

    ``fps`` (optional) makes an attached view render continuously at that rate; by default it
    renders its first frame, then on demand (``render_frame()``, ``frames()``, ``export_bitmap()``).
    """

    def __init__(self, width: int, height: int, fps: float | None = None) -> None:
        super().__init__(width, height)
        if fps is not None and (isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0 < fps <= 1000):
            raise AvatarError(ErrorCode.playbackInitFailed, f"Offscreen fps must be in (0, 1000] or None, not {fps!r}")
        self.fps = fps

    def __repr__(self) -> str:
        return f"Offscreen({self._width}, {self._height})"


_glfw_users = 0
_glfw_lock = threading.Lock()


def _glfw_acquire():
    import glfw

    global _glfw_users
    with _glfw_lock:
        if _glfw_users == 0:
            if not glfw.init():
                raise AvatarError(ErrorCode.playbackInitFailed,
                                  "glfw could not initialise: no display server (set DISPLAY, or run under Xvfb) "
                                  "or use an Offscreen container")
        _glfw_users += 1
    return glfw


def _glfw_release() -> None:
    import glfw

    global _glfw_users
    with _glfw_lock:
        _glfw_users -= 1
        if _glfw_users == 0:
            glfw.terminate()


class Window(_Container):
    """A desktop window (glfw) of ``width``×``height`` screen pixels titled ``title``."""

    def __init__(self, width: int, height: int, title: str = "Facecast") -> None:
        super().__init__(width, height)
        if not isinstance(title, str):
            raise AvatarError(ErrorCode.playbackInitFailed, f"window title must be a string, not {title!r}")
        self.title = title
        self.handle = None
        self._pending_size: tuple[int, int] | None = None

    def __repr__(self) -> str:
        return f"Window({self._width}, {self._height}, {self.title!r})"

    # -- called on the view's render thread ------------------------------------------------------

    def _open(self, hints: dict[str, Any]) -> Any:
        glfw = _glfw_acquire()
        try:
            glfw.default_window_hints()
            for name, value in hints.items():
                glfw.window_hint(getattr(glfw, name), getattr(glfw, value) if isinstance(value, str) else int(value))
            handle = glfw.create_window(self._width, self._height, self.title, None, None)
        except Exception:
            _glfw_release()
            raise
        if not handle:
            _glfw_release()
            raise AvatarError(ErrorCode.playbackInitFailed,
                              f"glfw could not create a {self._width}×{self._height} window with {hints}")
        self.handle = handle

        def on_size(_win, w, h):  # the user resized the window
            if w > 0 and h > 0:
                with self._lock:
                    self._width, self._height = w, h

        self._size_callback = on_size
        glfw.set_window_size_callback(handle, on_size)
        return handle

    def _poll(self) -> bool:
        """Process window events; False once the user closed the window."""
        import glfw

        if self._pending_size is not None:
            glfw.set_window_size(self.handle, *self._pending_size)
            self._pending_size = None
        glfw.poll_events()
        return not glfw.window_should_close(self.handle)

    def _framebuffer_size(self) -> tuple[int, int]:
        import glfw

        return glfw.get_framebuffer_size(self.handle)

    def _refresh_rate(self) -> float:
        import glfw

        monitor = glfw.get_primary_monitor()
        mode = glfw.get_video_mode(monitor) if monitor else None
        rate = getattr(mode, "refresh_rate", 0) if mode else 0
        return float(rate) if rate and rate > 0 else 60.0

    def _close(self) -> None:
        if self.handle is None:
            return
        import glfw

        glfw.set_window_size_callback(self.handle, None)
        glfw.destroy_window(self.handle)
        self.handle = None
        self._size_callback = None
        _glfw_release()

    def _on_resize(self, width: int, height: int) -> None:
        if self.handle is not None:
            self._pending_size = (width, height)  # applied by the render thread that owns the window
