"""The cpu backend's numba rasterizer against the per-pixel numpy reference of gsplat's rules."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from engine import AvatarError
from engine.render.pixels import to_rgba8
from plugins.render_cpu.renderer import CpuRenderer

from .reference import composite, project, random_scene


def _draw(frame, background=(0.0, 0.0, 0.0)):
    r = CpuRenderer()
    r.open(frame.width, frame.height)
    r.draw(frame, background)
    out = r.read_float().copy()
    rgba8 = r.read_rgba().copy()
    r.close()
    return out, rgba8


@pytest.mark.parametrize("seed,n,size", [(1, 60, (64, 48)), (2, 300, (70, 37)), (3, 1, (16, 16))])
def test_matches_per_pixel_reference(seed, n, size):
    scene = random_scene(n, seed, width=size[0], height=size[1])
    frame = project(**scene)
    assert frame.count > 0
    got, rgba8 = _draw(frame, (0.2, 0.3, 0.4))
    want = composite(frame, (0.2, 0.3, 0.4))
    np.testing.assert_allclose(got, want, atol=2e-5)
    # the uint8 image is written with the float one and rounds as the engine's to_rgba8 does
    np.testing.assert_array_equal(rgba8, to_rgba8(got.copy(), np.empty(got.shape, np.uint8)))


def test_opaque_stack_stops_at_transmittance_floor():
    # Three opaque splats at one pixel: after two, T = 1e-6 ≤ 1e-4, so gsplat drops the second
    # (the pixel is done *before* it) and never sees the third.
    frame = project(means=np.array([[0, 0, 1.0], [0, 0, 1.1], [0, 0, 1.2]], np.float32),
                    quats=np.tile(np.array([1, 0, 0, 0], np.float32), (3, 1)),
                    scales=np.full((3, 3), 0.5, np.float32), opacities=np.ones(3, np.float32),
                    colors=np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], np.float32),
                    viewmat=np.eye(4, dtype=np.float32),
                    K=np.array([[20, 0, 8.5], [0, 20, 8.5], [0, 0, 1]], np.float32), width=16, height=16)
    got, rgba8 = _draw(frame)
    centre = got[8, 8]
    assert centre[0] == pytest.approx(0.999, abs=1e-6)
    assert centre[1] == 0.0 and centre[2] == 0.0
    assert centre[3] == pytest.approx(0.999, abs=1e-6)
    assert tuple(rgba8[8, 8]) == (255, 0, 0, 255)


@pytest.mark.parametrize("height", [1, 2])  # one row: a step per row; two: both rows in one step
def test_only_the_pixels_a_step_flags_go_to_the_exact_rules(height):
    # Splat 0 is flat (α = 0.99, T → 0.01). Splat 1 has α = 0.99 at pixel 8, which puts T·(1 − α) next to the
    # 1e-4 floor, so that pixel is decided by gsplat's exact float32 rules; pixel 11, in the same 8-pixel step,
    # is composited normally (T → ~1e-3), and composited a second time its T·(1 − α) would itself land next
    # to the floor. The exact pass must take only the pixels flagged before the step, not re-test them all.
    f32 = np.float32
    t1 = f32(1) - f32(0.99)
    alpha11 = 1 - np.sqrt(1.001e-4 / t1)
    k = 2 * np.log(0.99 / alpha11) / 9  # σ = ½·k·dx², dx = 3 at pixel 11
    frame = SimpleNamespace(
        width=16, height=height, count=2, order=np.array([0, 1], np.int32),
        means2d=np.array([[8.5, height / 2], [8.5, height / 2]], np.float32),
        conics=np.array([[0, 0, 0], [k, 0, 0]], np.float32), radii=np.full(2, 20, np.float32),
        opacities=np.full(2, 0.99, np.float32), colors=np.array([[1, 0, 0], [0, 1, 0]], np.float32))
    alpha = min(f32(0.999), f32(0.99) * np.exp(-f32(0.5) * f32(k) * f32(9)))  # gsplat's α at pixel 11
    assert 0.998e-4 < t1 * (f32(1) - f32(0.99)) <= 1.002e-4  # pixel 8: near the floor
    assert t1 * (f32(1) - alpha) > 1.002e-4  # pixel 11: composited normally ...
    assert 1e-4 < t1 * (f32(1) - alpha) * (f32(1) - alpha) <= 1.002e-4  # ... and near the floor if redone
    got, _ = _draw(frame)
    np.testing.assert_allclose(got, composite(frame), atol=2e-5)


def test_empty_frame_draws_background():
    scene = random_scene(10, 4)
    scene["means"][:, 2] = -2.0  # all behind the camera
    frame = project(**scene)
    assert frame.count == 0
    got, _ = _draw(frame, (0.25, 0.5, 1.0))
    assert np.all(got[..., :3] == np.array([0.25, 0.5, 1.0], np.float32))
    assert np.all(got[..., 3] == 0.0)


def test_draw_before_open_is_a_clear_error():
    frame = project(**random_scene(5, 5))
    with pytest.raises(AvatarError, match="open"):
        CpuRenderer().draw(frame)


def test_buffers_are_reused_between_frames():
    scene = random_scene(200, 6)
    frame = project(**scene)
    r = CpuRenderer()
    r.open(frame.width, frame.height)
    r.draw(frame)
    image, packed = r.read_float(), r._packed
    small = project(**random_scene(50, 7))
    r.draw(small)
    assert r.read_float() is image and r._packed is packed
    np.testing.assert_allclose(r.read_float(), composite(small), atol=2e-5)
    r.close()
    r.close()  # idempotent


@pytest.mark.parametrize("seed", [11, 12])
def test_render_splats_matches_an_independent_gsplat_reference(seed):
    """The public entry point (engine.prepare's projection + the cpu rasterizer) against this
    test's own EWA projection and per-pixel compositor, on scenes neither was tuned on."""
    from conformance.scenes import mean_abs_error, psnr
    from engine.render import render_splats

    scene = random_scene(250, seed, width=80, height=60)
    got = render_splats(**scene, background=(0.1, 0.2, 0.3))
    want = composite(project(**scene), (0.1, 0.2, 0.3))
    assert psnr(got, want) >= 40.0 and mean_abs_error(got, want) <= 2 / 255


def test_rows_that_finish_mid_tile_are_skipped_and_the_rest_still_composite():
    # Opaque bands (wide in x, thin in y) finish the middle rows of the tile, and opaque discs at its left edge
    # finish the first pixels of the rows near the bottom; a large splat behind them all must still show
    # everywhere else and leave the finished pixels as they were.
    f32 = np.float32
    stack = 6
    bands = [[0, 0, 1.0 + 0.02 * i] for i in range(stack)]
    discs = [[-0.75 * (1.0 + 0.02 * i), 0.5 * (1.0 + 0.02 * i), 1.0 + 0.02 * i] for i in range(stack)]
    n = 2 * stack + 1
    frame = project(means=np.array(bands + discs + [[0, 0, 2.0]], f32),
                    quats=np.tile(np.array([1, 0, 0, 0], f32), (n, 1)),
                    scales=np.array([[5, 0.1, 0.1]] * stack + [[0.15, 0.15, 0.15]] * stack + [[1.5, 1.5, 1.5]], f32),
                    opacities=np.ones(n, f32), colors=np.array([[1, 0, 0]] * (2 * stack) + [[0, 0, 1]], f32),
                    viewmat=np.eye(4, dtype=np.float32),
                    K=np.array([[20, 0, 16], [0, 20, 16], [0, 0, 1]], np.float32), width=32, height=32)
    got, _ = _draw(frame, (0.2, 0.3, 0.4))
    np.testing.assert_allclose(got, composite(frame, (0.2, 0.3, 0.4)), atol=2e-5)
    # the finished middle row never sees the blue splat: its blue is the background's share alone
    np.testing.assert_allclose(got[16, :, 2], (1 - got[16, :, 3]) * 0.4, atol=1e-7)
    assert got[26, 1, 0] > 0.99 and got[26, 1, 2] < 1e-3  # a finished pixel at the left of a row ...
    assert got[26, 20, 2] > 0.5 and got[2, 16, 2] > 0.5  # ... whose other pixels, and rows above, are blue


def test_exp_polynomial_is_within_4_ulp_on_its_range():
    import numba

    from plugins.render_cpu.simd import EXP_CONSTANTS, exp_neg

    @numba.njit
    def run(s):
        out = np.empty_like(s)
        for i in range(s.shape[0]):
            out[i] = exp_neg(s[i], EXP_CONSTANTS)
        return out

    s = np.linspace(0.0, 6.0, 200_001, dtype=np.float32)
    want = np.exp(-s.astype(np.float64))
    rel = np.abs(run(s).astype(np.float64) - want) / want
    assert rel.max() <= 2.4e-7


def test_float_image_is_the_latest_frame_when_only_uint8_was_read_before():
    # draw writes the uint8 image; the float one is composited on the first read_float after a draw
    first, second = project(**random_scene(80, 21)), project(**random_scene(80, 22))
    r = CpuRenderer()
    r.open(first.width, first.height)
    r.draw(first, (0.2, 0.3, 0.4))
    rgba_first = r.read_rgba().copy()
    r.draw(second, (0.2, 0.3, 0.4))
    got = r.read_float()
    np.testing.assert_allclose(got, composite(second, (0.2, 0.3, 0.4)), atol=2e-5)
    assert r.read_float() is got
    np.testing.assert_array_equal(r.read_rgba(), to_rgba8(got.copy(), np.empty(got.shape, np.uint8)))
    assert not np.array_equal(rgba_first, r.read_rgba())
    r.draw(first, (0.2, 0.3, 0.4))  # once floats were asked for, draw writes them itself
    assert not r._float_pending
    np.testing.assert_allclose(r.read_float(), composite(first, (0.2, 0.3, 0.4)), atol=2e-5)
    r.close()


def test_opacities_changed_in_place_between_frames_reshape_the_boxes():
    # the renderer keeps each splat's ln(255·o) between frames; a frame whose opacities array was changed in
    # place must still get boxes (and so pixels) for its new opacities
    frame = project(**random_scene(120, 31))
    frame.opacities[:] = 0.02  # small: the boxes clip to a small ellipse
    r = CpuRenderer()
    r.open(frame.width, frame.height)
    r.draw(frame)
    np.testing.assert_allclose(r.read_float(), composite(frame), atol=2e-5)
    frame.opacities[:] = 0.99  # same array, same shape: the boxes must grow
    r.draw(frame)
    np.testing.assert_allclose(r.read_float(), composite(frame), atol=2e-5)
    r.close()
