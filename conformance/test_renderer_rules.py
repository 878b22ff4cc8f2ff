"""Renderer conformance, rule by rule: hand-made ``PreparedFrame`` scenes that each expose one rule
of ``engine.contracts.Renderer`` (orientation and channel order, gsplat's α clamp, 1/255 skip and
T ≤ 1e-4 stop, the radius box, no allocation per frame), drawn through the plugin's own factory.

Run on your plugin with ``facecast conformance --renderer NAME``. Tolerances allow a 16-bit float
target; every broken variant of these rules misses them by ten times that or more.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from .scenes import prepared_frame

W = H = 64
WIDE = (1e-6, 0.0, 1e-6)  # a conic so flat that α ≈ opacity over the whole radius box
TOL = 2.5e-3


@pytest.fixture
def draw(renderer_registration):
    renderer = renderer_registration.factory()
    renderer.open(W, H)

    def run(frame, background=(0.0, 0.0, 0.0)):
        renderer.draw(frame, background)
        return np.array(renderer.read_float(), dtype=np.float64), np.array(renderer.read_rgba())

    run.renderer = renderer
    yield run
    renderer.close()


def test_read_float_is_top_row_first_rgba_and_read_rgba_is_the_same_image(draw):
    frame = prepared_frame(W, H, [
        dict(mean=(16, 12), radius=8, opacity=0.9, color=(1, 0, 0)),  # top left: red
        dict(mean=(48, 12), radius=8, opacity=0.9, color=(0, 1, 0)),  # top right: green
        dict(mean=(16, 50), radius=8, opacity=0.9, color=(0, 0, 1)),  # bottom left: blue
    ], conic=WIDE)
    img, rgba = draw(frame, background=(0.0, 0.0, 0.0))
    assert img.shape == (H, W, 4) and rgba.shape == (H, W, 4) and rgba.dtype == np.uint8
    for (x, y), channel, what in (((16, 12), 0, "red top left"), ((48, 12), 1, "green top right"),
                                  ((16, 50), 2, "blue bottom left")):
        px = img[y, x]
        assert px[channel] > 0.85 and px[3] > 0.85 and np.delete(px[:3], channel).max() < 0.05, (
            f"read_float() at (x={x}, y={y}) is {np.round(px, 3)}, expected {what} (rows top first, RGBA)")
    assert img[50, 48, 3] < 1e-3, "the bottom right is empty"
    want = np.clip(np.round(img * 255), 0, 255)
    worst = np.abs(rgba.astype(np.float64) - want).max()
    assert worst <= 1, f"read_rgba() differs from read_float() × 255 by up to {worst:.0f}: flipped, or not RGBA?"


def test_alpha_is_clamped_at_0_999(draw):
    """An opaque black splat on white: T = 1 − 0.999 lets 0.001 of the background through."""
    frame = prepared_frame(W, H, [dict(mean=(32, 32), radius=12, opacity=1.0, color=(0, 0, 0))], conic=WIDE)
    img, _ = draw(frame, background=(1.0, 1.0, 1.0))
    centre = img[32, 32]
    # 6e-4: a 16-bit target rounds 0.999 to 0.99854 or 0.99902; without the clamp it is 1 and RGB 0
    assert centre[:3] == pytest.approx([0.001] * 3, abs=6e-4), f"centre {centre}: α must be min(0.999, o·e^(−σ))"
    assert centre[3] == pytest.approx(0.999, abs=6e-4)


def test_alpha_below_1_over_255_is_skipped(draw):
    """Sixty splats of opacity 0.0038 (< 1/255) stacked: none may draw; at 0.0045 they all do."""
    faint = prepared_frame(W, H, [dict(mean=(32, 32), radius=12, opacity=0.0038, color=(1, 1, 1))] * 60,
                           conic=WIDE)
    img, _ = draw(faint)
    assert img[..., 3].max() < 1e-3 and img[..., :3].max() < 1e-3, (
        f"α < 1/255 must be skipped, the stack drew α {img[..., 3].max():.3f}")
    visible = prepared_frame(W, H, [dict(mean=(32, 32), radius=12, opacity=0.0045, color=(1, 1, 1))] * 60,
                             conic=WIDE)
    img, _ = draw(visible)
    assert img[32, 32, 3] == pytest.approx(1 - (1 - 0.0045) ** 60, abs=0.01), "α ≥ 1/255 must be drawn"


def test_compositing_stops_before_transmittance_falls_to_1e_4(draw):
    """Black (o = 0.95) in front of white (o = 1): the white splat would take T from 0.05 to 5e-5,
    so gsplat stops before it and the pixel stays black. A renderer whose blend unit cannot stop
    declares ``stops_at_min_transmittance = False`` and must then composite it fully."""
    frame = prepared_frame(W, H, [dict(mean=(32, 32), radius=12, opacity=0.95, color=(0, 0, 0)),
                                  dict(mean=(32, 32), radius=12, opacity=1.0, color=(1, 1, 1))], conic=WIDE)
    img, _ = draw(frame)
    centre = img[32, 32]
    if getattr(draw.renderer, "stops_at_min_transmittance", True):
        assert centre[:3].max() < TOL, (
            f"centre {np.round(centre, 4)}: a splat that would take T to ≤ 1e-4 must not be drawn")
        assert centre[3] == pytest.approx(0.95, abs=TOL)
    else:
        assert centre[:3] == pytest.approx([0.05 * 0.999] * 3, abs=TOL), f"centre {np.round(centre, 4)}"


def test_a_splat_covers_exactly_the_pixels_within_its_radius(draw):
    """Pixel centres sit at +0.5: a radius of 10 around x = 32.0 covers pixels 22..41 (centres
    22.5..41.5) and nothing else, in x and in y; a flat conic keeps α ≈ o in all of it."""
    frame = prepared_frame(W, H, [dict(mean=(32.0, 32.0), radius=10, opacity=0.9, color=(1, 1, 1))], conic=WIDE)
    img, _ = draw(frame)
    covered = img[..., 3] > 0.5
    want = np.zeros((H, W), bool)
    want[22:42, 22:42] = True
    rows, cols = np.nonzero(covered)
    extent = f"rows {rows.min()}..{rows.max()}, columns {cols.min()}..{cols.max()}" if rows.size else "nothing"
    assert (covered == want).all(), f"the splat covered {extent}, not 22..41 in both: radii not honoured"
    assert img[32, 32, 3] == pytest.approx(0.9, abs=TOL)


def test_draw_allocates_nothing_per_frame_after_warm_up(renderer_registration):
    from .scenes import projected_random_frame

    frame = projected_random_frame(256, 256, n=600)
    renderer = renderer_registration.factory()
    renderer.open(256, 256)
    try:
        for _ in range(3):
            renderer.draw(frame, (0.1, 0.1, 0.1))
        renderer.read_float()
        tracemalloc.start()
        try:
            base, _ = tracemalloc.get_traced_memory()
            for _ in range(5):
                renderer.draw(frame, (0.1, 0.1, 0.1))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    finally:
        renderer.close()
    grew = peak - base
    # A quarter of a float image: room for numpy's casting buffers, none for an image per frame.
    assert grew < 256 * 1024, (f"draw() allocated {grew / 1024:.0f} KiB at its peak over 5 warm frames "
                               "(a 256² float image is 1024 KiB): reuse the renderer's buffers")
