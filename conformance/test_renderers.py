"""Renderer conformance: every backend against the ``cpu`` reference, through the public entry points.

Run on your plugin with ``facecast conformance --renderer NAME`` (or
``pytest --pyargs conformance.test_renderers --facecast-renderer NAME``). Thresholds: PSNR ≥ 40 dB and mean
absolute error ≤ 2/255 against ``cpu`` on every canonical scene.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine import AvatarError
from engine.render import render_splats

from .scenes import SCENES, anisotropic_splat, mean_abs_error, psnr

MIN_PSNR = 40.0
MAX_MAE = 2.0 / 255.0


@pytest.mark.parametrize("scene_name", sorted(SCENES))
def test_matches_cpu_reference(renderer_name, scene_name):
    scene = SCENES[scene_name]()
    got = render_splats(**scene, backend=renderer_name)
    want = render_splats(**scene, backend="cpu")
    assert got.shape == (scene["height"], scene["width"], 4) and got.dtype == np.float32
    assert psnr(got, want) >= MIN_PSNR, f"{renderer_name} on {scene_name}: PSNR {psnr(got, want):.1f} dB"
    assert mean_abs_error(got, want) <= MAX_MAE, f"{renderer_name} on {scene_name}: MAE {mean_abs_error(got, want):.4f}"


def test_anisotropic_splat_orientation(renderer_name):
    """The long axis must run at +30° in image coordinates (x right, y down): rotation about the
    camera's +z (forward) turns +x towards +y."""
    scene = anisotropic_splat()
    img = render_splats(**scene, backend=renderer_name)
    w = img[..., 3].astype(np.float64)
    ys, xs = np.mgrid[0:img.shape[0], 0:img.shape[1]] + 0.5
    total = w.sum()
    cx, cy = (w * xs).sum() / total, (w * ys).sum() / total
    K = scene["K"]
    assert cx == pytest.approx(K[0, 0] * 0.15 / 2.0 + K[0, 2], abs=0.5)
    assert cy == pytest.approx(K[1, 1] * -0.08 / 2.0 + K[1, 2], abs=0.5)
    cxx = (w * (xs - cx) ** 2).sum()
    cyy = (w * (ys - cy) ** 2).sum()
    cxy = (w * (xs - cx) * (ys - cy)).sum()
    angle = 0.5 * math.degrees(math.atan2(2 * cxy, cxx - cyy))
    assert angle == pytest.approx(30.0, abs=3.0)


def test_front_splat_wins(renderer_name):
    from .scenes import depth_ordering

    img = render_splats(**depth_ordering(), backend=renderer_name)
    centre = img[32, 32]
    assert centre[0] > 0.95 and centre[2] < 0.05, f"expected the red splat in front, got {centre}"


def test_nothing_visible_draws_background(renderer_name):
    from .scenes import behind_camera, empty

    for scene in (empty(), behind_camera()):
        img = render_splats(**scene, backend=renderer_name)
        np.testing.assert_allclose(img[..., :3], np.broadcast_to(scene["background"], img[..., :3].shape), atol=1e-3)
        assert np.abs(img[..., 3]).max() <= 1e-3


def test_bad_input_is_a_clear_error(renderer_name):
    scene = SCENES["random-1"]()
    scene["means"] = scene["means"].copy()
    scene["means"][3, 1] = np.nan
    with pytest.raises(AvatarError, match="means holds 1 NaN"):
        render_splats(**scene, backend=renderer_name)


def test_renderer_contract(renderer_name, renderer_registration):
    """open → draw → read → resize → draw → close twice, through the registered factory."""
    from engine.prepare import SplatProjector

    scene = SCENES["random-1"]()
    bg = scene.pop("background")
    projector = SplatProjector(scene["means"].shape[0])
    renderer = renderer_registration.factory()
    renderer.open(scene["width"], scene["height"])
    try:
        renderer.draw(projector(**scene), bg)
        rgba = renderer.read_rgba()
        assert rgba.shape == (scene["height"], scene["width"], 4) and rgba.dtype == np.uint8
        assert rgba[..., 3].max() > 200
        scene["width"], scene["height"] = 50, 40
        renderer.resize(50, 40)
        renderer.draw(projector(**scene), bg)
        assert renderer.read_rgba().shape == (40, 50, 4)
    finally:
        renderer.close()
    renderer.close()


def test_demo_avatar_renders_centred(renderer_name, renderer_registration):
    from engine.render.workload import make_frame_source

    source, description = make_frame_source("demo", size=256)
    frame = source()
    renderer = renderer_registration.factory()
    renderer.open(frame.width, frame.height)
    try:
        renderer.draw(frame)
        alpha = renderer.read_rgba()[..., 3].astype(np.float64) / 255
    finally:
        renderer.close()
    coverage = alpha.mean()
    assert 0.05 < coverage < 0.9, f"{description}: {coverage:.1%} of the image covered"
    ys, xs = np.mgrid[0:frame.height, 0:frame.width]
    cx, cy = (alpha * xs).sum() / alpha.sum(), (alpha * ys).sum() / alpha.sum()
    assert abs(cx / frame.width - 0.5) < 0.1 and abs(cy / frame.height - 0.5) < 0.15, (cx, cy)


def _draw(renderer, frame) -> np.ndarray:
    renderer.open(frame.width, frame.height)
    try:
        renderer.draw(frame, (0.0, 0.0, 0.0))
        return np.array(renderer.read_float(), copy=True)
    finally:
        renderer.close()


def test_view_dependent_colour(renderer_name, renderer_registration):
    """SH colour changes with the view: each frame's colours must be drawn, as the cpu reference draws them."""
    import attrs

    from engine.render.backends import make_renderer

    from .scenes import sh_avatar_frames

    first, second = sh_avatar_frames()
    renderer = renderer_registration.factory()
    renderer.open(first.width, first.height)
    try:
        got = []
        for frame in (first, second):  # one renderer, two frames: colours must not be kept from the first
            renderer.draw(frame, (0.0, 0.0, 0.0))
            got.append(np.array(renderer.read_float(), copy=True))
    finally:
        renderer.close()
    for frame, image in zip((first, second), got):
        want = _draw(make_renderer("cpu"), frame)
        assert psnr(image, want) >= MIN_PSNR, f"{renderer_name} with SH colour: PSNR {psnr(image, want):.1f} dB"
    stale = _draw(make_renderer("cpu"), attrs.evolve(second, colors=first.colors))
    assert psnr(stale, _draw(make_renderer("cpu"), second)) < MIN_PSNR - 5  # the check can tell stale colours
