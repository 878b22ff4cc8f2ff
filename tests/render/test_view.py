"""AvatarView on Offscreen containers with the real demo avatar and the cpu backend."""

from __future__ import annotations

import asyncio
import gc
import threading

import numpy as np
import pytest

from engine import AvatarError, AvatarSDK, ErrorCode
from engine.avatar import load_bundled
from engine.render.containers import Offscreen, Window
from engine.render.png import decode_png
from engine.render.view import AvatarView


@pytest.fixture(scope="module")
def demo():
    return load_bundled("demo")


@pytest.fixture
def view(demo):
    v = AvatarView(demo, Offscreen(160, 120), backend="cpu")
    yield v
    v.dispose()


def _render_threads():
    return [t for t in threading.enumerate() if t.name == "facecast-view-render" and t.is_alive()]


@pytest.mark.parametrize("size", [(0, 100), (100, 0), (0, 0)])
def test_zero_size_container_is_rejected(demo, size):
    with pytest.raises(AvatarError, match="non-zero width and height") as err:
        AvatarView(demo, Offscreen(*size))
    assert err.value.code is ErrorCode.playbackInitFailed


def test_bad_container_and_avatar_are_rejected(demo):
    with pytest.raises(AvatarError, match="container must be"):
        AvatarView(demo, (100, 100))
    with pytest.raises(AvatarError, match="needs an Avatar"):
        AvatarView("demo", Offscreen(10, 10))
    with pytest.raises(AvatarError, match=">= 0"):
        Offscreen(-1, 10)
    with pytest.raises(AvatarError, match="no renderer named 'nope'"):
        AvatarView(demo, Offscreen(10, 10), backend="nope")


def test_render_frame_and_export_bitmap(view):
    rgba = view.render_frame()
    assert rgba.shape == (120, 160, 4) and rgba.dtype == np.uint8
    assert view.wait_first_rendering(5)
    assert (rgba[..., 3] > 128).mean() > 0.2  # the head covers a good part of the frame
    png = view.export_bitmap()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert decode_png(png).shape == (120, 160, 4)
    rect = view.get_bounding_rect()
    assert rect is not None and 0 <= rect.x < 80 < rect.x + rect.width <= 160
    assert view.render_size.width == 160 and view.render_size.height == 120


async def test_on_first_rendering_runs_on_the_creating_loop(demo):
    loop = asyncio.get_running_loop()
    fired = loop.create_future()
    v = AvatarView(demo, Offscreen(64, 64), backend="cpu")
    v.on_first_rendering = lambda: fired.set_result(threading.current_thread())
    try:
        v.render_frame()  # the first frame may already be drawn; on_first_rendering still fires once it is
        if not fired.done():
            await asyncio.wait_for(fired, 5)
    except asyncio.TimeoutError:
        pytest.fail("on_first_rendering did not fire")
    finally:
        v.dispose()
    assert fired.result() is threading.main_thread()


def test_on_first_rendering_set_before_the_first_frame(demo):
    fired = threading.Event()
    v = AvatarView(demo, Offscreen(64, 64, fps=None), backend="cpu")
    v.on_first_rendering = fired.set
    try:
        v.render_frame()
        assert v.wait_first_rendering(5)
    finally:
        v.dispose()


def test_avatar_transform_moves_and_scales_the_avatar(view):
    view.render_frame()
    base = view.get_bounding_rect()
    view.avatar_transform = {"x": 0.5, "y": 0.0, "scale": 0.5}
    view.render_frame()
    moved = view.get_bounding_rect()
    assert moved.width == pytest.approx(base.width * 0.5, rel=0.1)
    assert moved.x + moved.width / 2 == pytest.approx(base.x + base.width / 2 + 40, abs=4)  # 0.5 · W/2
    assert view.avatar_transform.scale == 0.5
    for bad in ({"x": 2}, {"scale": 0}, {"y": float("nan")}, {"z": 1}, "left"):
        with pytest.raises(AvatarError, match="avatar_transform"):
            view.avatar_transform = bad


def test_camera_config_round_trip(view):
    cam = view.get_camera_config()
    view.render_frame()
    before = view.get_bounding_rect()
    view.update_camera_config(fov=cam.fov * 2)
    assert view.get_camera_config().fov == cam.fov * 2
    view.render_frame()
    assert view.get_bounding_rect().height < before.height
    with pytest.raises(AvatarError, match="unknown camera field"):
        view.update_camera_config(zoom=2)
    with pytest.raises(AvatarError, match="fov"):
        view.update_camera_config(fov=0)
    with pytest.raises(AvatarError, match="coincide"):
        view.update_camera_config(position=cam.target)


def test_pause_and_resume(view):
    view.render_frame()
    view.pause_rendering()
    assert not view.is_rendering_enabled()
    assert view.export_bitmap() is None
    with pytest.raises(AvatarError, match="paused"):
        view.render_frame()
    view.resume_rendering()
    assert view.is_rendering_enabled()
    assert view.export_bitmap() is not None


async def test_quality_tiers_and_resolution_cap(sdk, demo):
    v = AvatarView(demo, Offscreen(200, 100), backend="cpu")
    try:
        assert v.render_frame().shape == (100, 200, 4)  # ultra by default
        AvatarSDK.set_render_quality("standard")
        assert v.render_frame().shape == (50, 100, 4)
        AvatarSDK.set_render_quality("ultra")
        AvatarSDK.set_render_resolution_cap(True, 40)
        assert v.render_frame().shape == (40, 80, 4)
        assert (v.render_size.width, v.render_size.height) == (80, 40)
        rect = v.get_bounding_rect()  # reported in container pixels whatever the backing size
        assert rect.x + rect.width <= 200 and rect.width > 60
        AvatarSDK.set_render_resolution_cap(False)
        assert v.render_frame().shape == (100, 200, 4)
    finally:
        v.dispose()


def test_container_resize(view):
    view.container.resize(90, 70)
    assert view.render_frame().shape == (70, 90, 4)
    with pytest.raises(AvatarError, match="must be > 0"):
        view.container.resize(0, 10)


async def test_frames_iterator(view):
    stamps = []
    async for ts, rgba in view.frames(fps=20, count=3):
        stamps.append(ts)
        assert rgba.shape == (120, 160, 4)
    assert len(stamps) == 3 and stamps == sorted(stamps)
    assert stamps[-1] >= 0.09  # paced at 20 fps: frame 2 is due at 0.1 s
    with pytest.raises(AvatarError, match="fps"):
        async for _ in view.frames(fps=0):
            pass


def test_dispose_releases_everything(demo):
    before = len(_render_threads())
    v = AvatarView(demo, Offscreen(64, 64), backend="cpu")
    v.render_frame()
    assert len(_render_threads()) == before + 1
    container = v.container
    v.dispose()
    v.dispose()  # idempotent
    assert len(_render_threads()) == before
    assert v.export_bitmap() is None and v.get_bounding_rect() is None and not v.is_rendering_enabled()
    with pytest.raises(AvatarError, match="disposed"):
        v.avatar_transform = (0, 0, 1)
    AvatarView(demo, container, backend="cpu").dispose()  # the container is free again


def test_sdk_cleanup_disposes_views(demo):
    v = AvatarView(demo, Offscreen(64, 64), backend="cpu")
    AvatarSDK.cleanup()
    assert not v.is_rendering_enabled() and v._render.thread.is_alive() is False


def test_view_dropped_without_dispose_does_not_leak(demo):
    before = len(_render_threads())
    v = AvatarView(demo, Offscreen(64, 64), backend="cpu")
    v.render_frame()
    thread = v._render.thread
    del v
    gc.collect()
    thread.join(10)
    assert not thread.is_alive()
    assert len(_render_threads()) == before


def test_exported_png_has_straight_alpha(view):
    from engine.render.png import straight_alpha

    frame = view.render_frame()
    png = straight_alpha(frame, (0.0, 0.0, 0.0)).astype(int)
    frame = frame.astype(int)
    opaque = png[..., 3] == 255
    edge = (png[..., 3] > 20) & (png[..., 3] < 200)
    assert opaque.any() and edge.any()
    # where fully covered, colours are the frame's; at soft edges they are divided by coverage
    assert np.abs(png[opaque][:, :3] - frame[opaque][:, :3]).max() <= 1
    a = png[edge][:, 3:4] / 255
    np.testing.assert_allclose(png[edge][:, :3] * a, frame[edge][:, :3], atol=2.5)
    assert (png[png[..., 3] == 0][:, :3] == 0).all()
    exported = decode_png(view.export_bitmap())
    assert exported.shape == frame.shape and (exported[..., 3] == 0).any()
