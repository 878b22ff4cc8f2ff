"""AvatarView on a real glfw Window under Xvfb with every built-in backend (cpu presents through wgpu)."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from engine import AvatarError
from engine.avatar import load_bundled
from engine.render.containers import Window
from engine.render.png import decode_png
from engine.render.view import AvatarView

from .xcapture import capture_window


@pytest.fixture(scope="module")
def demo():
    return load_bundled("demo")


def _window_pixels(display, view):
    import glfw

    w, h = glfw.get_framebuffer_size(view.container.handle)
    return capture_window(display, glfw.get_x11_window(view.container.handle), w, h)


@pytest.mark.parametrize("backend", ["wgpu", "opengl", "cpu"])
def test_window_shows_the_avatar_and_follows_resize(xvfb_display, demo, backend):
    view = AvatarView(demo, Window(160, 120, f"facecast test {backend}"), backend=backend)
    try:
        assert view.wait_first_rendering(60), view._render.error
        view.pause_rendering()  # hold one frame on screen so the capture and the export match
        time.sleep(0.1)
        view.resume_rendering()
        exported = decode_png(view.export_bitmap())
        view.pause_rendering()
        time.sleep(0.1)
        shown = _window_pixels(xvfb_display, view)
        assert shown.shape == (120, 160, 3)
        assert shown[40:80, 60:100].mean() > 40, "the window centre is black: nothing was presented"
        diff = np.abs(shown.astype(int) - exported[..., :3].astype(int)).mean()
        assert diff < 3.0, f"window differs from the exported frame by {diff:.1f}/255 on average"
        view.resume_rendering()
        view.container.resize(200, 100)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (view.render_size.width, view.render_size.height) != (200, 100):
            time.sleep(0.05)
        assert (view.render_size.width, view.render_size.height) == (200, 100)
        assert decode_png(view.export_bitmap()).shape == (100, 200, 4)
    finally:
        view.dispose()
    assert view.container.handle is None and not view._render.thread.is_alive()


def test_window_closed_by_the_user_stops_rendering(xvfb_display, demo):
    import glfw

    view = AvatarView(demo, Window(96, 96), backend="opengl")
    try:
        assert view.wait_first_rendering(60)
        glfw.set_window_should_close(view.container.handle, True)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and view.is_rendering_enabled():
            time.sleep(0.02)
        assert not view.is_rendering_enabled() and view.export_bitmap() is None
        with pytest.raises(AvatarError, match="window was closed"):
            view.resume_rendering()
    finally:
        view.dispose()


def test_windows_render_on_their_own_threads(xvfb_display, demo):
    views = [AvatarView(demo, Window(64, 64), backend=b) for b in ("wgpu", "opengl", "cpu")]
    try:
        assert all(v.wait_first_rendering(60) for v in views)
        threads = {v._render.thread for v in views}
        assert len(threads) == 3 and threading.current_thread() not in threads
    finally:
        for v in views:
            v.dispose()


def test_window_without_a_display_fails_in_the_constructor(demo, monkeypatch):
    monkeypatch.setenv("DISPLAY", ":9999")  # no X server there
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(AvatarError, match="display|glfw"):
        AvatarView(demo, Window(64, 64), backend="opengl")
