"""View-dependent colour: the prepare stage's SH evaluation against the real SH basis (scipy), on raw
splats and on an imported avatar, plus the quality tiers' degrees and the package's SH fields."""

from __future__ import annotations

import attrs
import numpy as np
import pytest

from engine import AvatarError, RenderQuality
from engine.avatar.package import load_package, write_package
from engine.avatar.model import CameraConfig
from engine.prepare import AvatarPreparer
from engine.prepare.sh import ShShader
from engine.render.camera import intrinsics, look_at_viewmat
from engine.render.quality import sh_degree

from .conftest import sh_reference


def _camera(position):
    return CameraConfig(position=position, target=(0.0, 0.0, 0.0), fov=40.0)


@pytest.mark.parametrize("degree", [1, 2, 3])
def test_shader_matches_real_sh_basis(degree):
    rng = np.random.default_rng(degree)
    n = 4000
    points = rng.normal(0, 0.1, (n, 3))
    coeffs = rng.normal(0, 0.5, (n, 16, 3)).astype(np.float32)
    cam = _camera((0.3, 0.2, 0.6))
    view, K = look_at_viewmat(cam), intrinsics(cam, 320, 240)
    x_cam = points @ view[:3, :3].T + view[:3, 3]
    means2d = np.stack([K[0, 0] * x_cam[:, 0] / x_cam[:, 2] + K[0, 2],
                        K[1, 1] * x_cam[:, 1] / x_cam[:, 2] + K[1, 2]], 1).astype(np.float32)
    depths, radii = x_cam[:, 2].astype(np.float32), np.ones(n, np.float32)
    radii[::7] = 0.0  # culled splats are left alone
    shader = ShShader(coeffs, degree)
    shader.colors[:] = -1.0
    colors = shader(means2d, depths, radii, view, np.array([K[0, 0], K[1, 1], K[0, 2], K[1, 2]]))
    ref = sh_reference(coeffs.astype(np.float64), points - np.array(cam.position), degree)
    np.testing.assert_allclose(colors[radii > 0], ref[radii > 0], atol=2e-5)
    assert (colors[radii == 0] == -1.0).all()


def test_imported_avatar_colour_follows_the_view(imported):
    avatar, _ = imported
    prep = AvatarPreparer(avatar.head, avatar.gaussians)
    assert prep.sh_degree == 3
    pose = avatar.idle[0]
    seen = []
    for offset in ((0.0, 0.0, 0.0), (0.25, 0.1, -0.1), (-0.3, -0.05, -0.1)):
        cam = attrs.evolve(avatar.camera, position=tuple(np.add(avatar.camera.position, offset)))
        frame = prep(pose, look_at_viewmat(cam), intrinsics(cam, 96, 96), 96, 96)
        vis = frame.order[:frame.count]
        means, _, _ = prep.bound_gaussians()
        coeffs = avatar.gaussians.sh[prep.splat_index[vis]].astype(np.float64)
        ref = sh_reference(coeffs, means[vis].astype(np.float64) - np.array(cam.position), 3)
        np.testing.assert_allclose(frame.colors[vis], ref, atol=1e-4)
        seen.append(frame.colors[vis[:200]].copy())
    assert np.abs(seen[0] - seen[1]).max() > 0.05  # the colour really changes with the view


def test_degree_zero_uses_base_colours(imported):
    avatar, _ = imported
    prep = AvatarPreparer(avatar.head, avatar.gaussians, sh_degree=0)
    frame = prep(avatar.idle[0], look_at_viewmat(avatar.camera), intrinsics(avatar.camera, 64, 64), 64, 64)
    np.testing.assert_array_equal(frame.colors, avatar.gaussians.color[prep.splat_index])
    assert AvatarPreparer(avatar.head, avatar.gaussians, sh_degree=1).sh_degree == 1


def test_quality_tiers_choose_the_degree():
    assert [sh_degree(q) for q in (RenderQuality.standard, RenderQuality.high, RenderQuality.ultra)] == [0, 1, 3]


def test_package_round_trip_and_sh_fields(imported, tmp_path):
    avatar, zip_path = imported
    loaded = load_package(zip_path)
    assert loaded.gaussians.sh_degree == 3
    np.testing.assert_array_equal(loaded.gaussians.sh, avatar.gaussians.sh)
    assert load_package(zip_path, use_compressed_model=True).gaussians.sh_degree == 3
    d = tmp_path / "pkg"
    write_package(attrs.evolve(avatar, gaussians=attrs.evolve(avatar.gaussians, sh=avatar.gaussians.sh[:, :4])), d)
    assert load_package(d).gaussians.sh_degree == 1
    manifest = (d / "manifest.json").read_text()
    (d / "manifest.json").write_text(manifest.replace('"sh_degree": 1', '"sh_degree": 2'))
    with pytest.raises(AvatarError, match=r"sh\.npz: coefficients must have shape \(12000, 9, 3\)"):
        load_package(d)
    (d / "manifest.json").write_text(manifest.replace('"sh_degree": 1', '"sh_degree": 0'))
    with pytest.raises(AvatarError, match="sh_degree is 0 but sh.npz is listed"):
        load_package(d)
