"""Camera maths, PNG encoding, quality tiers, render_splats input checks and `facecast render`."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from engine import AvatarError, CameraConfig
from engine.render import render_splats
from engine.render.camera import AvatarTransform, intrinsics, look_at_viewmat
from engine.render.png import decode_png, encode_png
from engine.render.quality import backing_size, splat_budget

from .reference import random_scene


def test_default_camera_looks_down_minus_z_with_opencv_axes():
    view = look_at_viewmat(CameraConfig(position=(0, 0, 0.6), target=(0, 0, 0)))
    # a point above the head (+y world) projects upward in the image (−y camera)
    p = view @ np.array([0.1, 0.2, 0.0, 1.0])
    assert p[0] == pytest.approx(0.1) and p[1] == pytest.approx(-0.2) and p[2] == pytest.approx(0.6)
    np.testing.assert_allclose(view[:3, :3] @ view[:3, :3].T, np.eye(3), atol=1e-6)


def test_intrinsics_and_avatar_transform():
    cam = CameraConfig(fov=90.0)
    K = intrinsics(cam, 200, 100)
    assert K[1, 1] == pytest.approx(50.0) and K[0, 2] == 100 and K[1, 2] == 50
    K2 = intrinsics(cam, 200, 100, AvatarTransform(x=1.0, y=1.0, scale=2.0))
    assert K2[0, 0] == pytest.approx(100.0) and K2[0, 2] == 200 and K2[1, 2] == 0


@pytest.mark.parametrize("bad", [dict(x=1.5), dict(y=-2), dict(scale=-1), dict(scale=float("inf")), dict(x=True)])
def test_avatar_transform_validation(bad):
    with pytest.raises(AvatarError, match="avatar_transform"):
        AvatarTransform(**bad)


def test_png_round_trip_and_structure():
    rgba = (np.arange(7 * 5 * 4) % 256).astype(np.uint8).reshape(5, 7, 4)
    data = encode_png(rgba)
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    np.testing.assert_array_equal(decode_png(data), rgba)
    idat = data.index(b"IDAT")
    assert zlib.decompress(data[idat + 4:data.index(b"IEND") - 8])[0] == 0  # filter byte
    with pytest.raises(ValueError):
        encode_png(rgba.astype(np.float32))


def test_quality_tiers_and_cap():
    assert backing_size(1000, 800, "ultra", False, 1080) == backing_size(1000, 800, "ultra", True, 1080)
    assert (backing_size(1000, 800, "standard", False, 1080).height) == 400
    capped = backing_size(2000, 2000, "ultra", True, 1080)
    assert (capped.width, capped.height) == (1080, 1080)
    assert splat_budget(30000, "ultra") is None and splat_budget(30000, "standard") == 15000


def _args():
    s = random_scene(20, 3)
    return {k: s[k] for k in ("means", "quats", "scales", "opacities", "colors", "viewmat", "K", "width", "height")}


@pytest.mark.parametrize("change,message", [
    (dict(means=np.zeros((20, 2))), "means must have shape"),
    (dict(quats=np.zeros((19, 4))), "quats must have shape"),
    (dict(quats=np.zeros((20, 4))), "zero-length quaternion"),
    (dict(scales=-np.ones((20, 3))), "scales must be >= 0"),
    (dict(opacities=np.full(20, 1.5)), r"opacities must lie in \[0, 1\]"),
    (dict(colors=np.full((20, 3), np.inf)), "colors holds 60 NaN or infinite"),
    (dict(viewmat=np.ones((4, 4))), "last row"),
    (dict(K=np.zeros((3, 3))), "fx, fy > 0"),
    (dict(width=0), "width must be"),
    (dict(height=2.5), "height must be"),
])
def test_render_splats_rejects_bad_input(change, message):
    with pytest.raises(AvatarError, match=message):
        render_splats(**{**_args(), **change})


def test_render_splats_rejects_unknown_backend_and_background():
    with pytest.raises(AvatarError, match="no renderer named 'metal'"):
        render_splats(**_args(), backend="metal")
    with pytest.raises(AvatarError, match="background"):
        render_splats(**_args(), background=(1, 2))


def test_render_splats_normalises_quaternions():
    a = _args()
    base = render_splats(**a)
    scaled = render_splats(**{**a, "quats": a["quats"] * 7.0})
    np.testing.assert_allclose(base, scaled, atol=1e-5)


def test_cli_render_writes_a_png(tmp_path, capsys):
    from engine.cli import main

    out = tmp_path / "face.png"
    assert main(["render", "--avatar", "demo", "--backend", "cpu", "--out", str(out),
                 "--width", "128", "--height", "96"]) == 0
    img = decode_png(out.read_bytes())
    assert img.shape == (96, 128, 4) and img[..., 3].mean() > 50
    assert "via cpu" in capsys.readouterr().out
