"""The demo drawn by the real pipeline (prepare stage + the cpu reference renderer): the surface is
solid, the jaw opens a dark mouth and the eyelids cover the whites of the eyes."""

from __future__ import annotations

import numpy as np
import pytest

from engine.avatar.demo import mesh as M
from engine.motion import layout
from engine.render.backends import make_renderer
from engine.render.camera import intrinsics, look_at_viewmat

SIZE = 160


@pytest.fixture(scope="module")
def draw(demo_avatar):
    from engine.prepare import AvatarPreparer

    cam = demo_avatar.camera
    view, K = look_at_viewmat(cam), intrinsics(cam, SIZE, SIZE)
    preparer = AvatarPreparer(demo_avatar.head, demo_avatar.gaussians)
    renderer = make_renderer("cpu")
    renderer.open(SIZE, SIZE)

    def render(**pose_values) -> np.ndarray:
        pose = np.zeros(layout.motion_dim(demo_avatar.expression_count), np.float32)
        for name, value in pose_values.items():
            pose[getattr(layout, name.upper())] = value
        renderer.draw(preparer(pose, view, K, SIZE, SIZE), (0.0, 0.0, 0.0))
        return np.array(renderer.read_float(), copy=True)

    def pixel(point) -> tuple[int, int]:
        cam_pt = view[:3, :3] @ np.asarray(point, np.float32) + view[:3, 3]
        uvw = K @ cam_pt
        return int(uvw[1] / uvw[2]), int(uvw[0] / uvw[2])  # row, column

    yield render, pixel
    renderer.close()


def _box(img, center, half):
    r, c = center
    return img[r - half: r + half + 1, c - half: c + half + 1]


def test_the_face_is_a_solid_surface(draw):
    render, pixel = draw
    img = render()
    cheeks = [pixel((s * 0.045, -0.03, 0.08)) for s in (1, -1)]
    forehead = pixel((0.0, 0.05, 0.09))
    for spot in cheeks + [forehead]:
        assert _box(img, spot, 3)[..., 3].min() > 0.99  # opaque: no holes between splats
    corner = img[:8, :8]
    assert corner[..., 3].max() < 0.01  # and the background stays background


def test_the_jaw_opens_a_dark_mouth(draw):
    render, pixel = draw
    mouth = pixel((0.0, M.MOUTH_Y - 0.006, 0.09))
    closed = _box(render(), mouth, 2)[..., :3].mean()
    opened = _box(render(jaw=(0.3, 0.0, 0.0)), mouth, 2)[..., :3].mean()
    assert opened < 0.6 * closed


def test_eyelids_cover_the_whites(draw, demo_avatar):
    render, pixel = draw
    for side, x in ((0, M.EYE_X), (1, -M.EYE_X)):
        white = pixel((x + 0.0095 * (1 if side == 0 else -1), M.EYE_Y, 0.072))  # sclera beside the iris
        lids = np.zeros(2, np.float32)
        lids[side] = 1.0
        open_eye = _box(render(), white, 1)[..., :3].mean()
        closed_eye = _box(render(eyelids=lids), white, 1)[..., :3].mean()
        assert open_eye > 0.6 and closed_eye < 0.85 * open_eye


def test_compressed_model_draws_the_same_picture(demo_avatar):
    from engine.avatar.package import load_bundled
    from engine.prepare import AvatarPreparer

    compressed = load_bundled("demo", use_compressed_model=True)
    cam = demo_avatar.camera
    view, K = look_at_viewmat(cam), intrinsics(cam, SIZE, SIZE)
    pose = np.zeros(layout.motion_dim(demo_avatar.expression_count), np.float32)
    pose[layout.JAW.start] = 0.2
    renderer = make_renderer("cpu")
    renderer.open(SIZE, SIZE)
    try:
        images = []
        for avatar in (demo_avatar, compressed):
            renderer.draw(AvatarPreparer(avatar.head, avatar.gaussians)(pose, view, K, SIZE, SIZE), (0.0, 0.0, 0.0))
            images.append(np.array(renderer.read_float(), copy=True))
    finally:
        renderer.close()
    diff = np.abs(images[0] - images[1])
    assert diff.mean() < 1e-3 and diff.max() < 0.03, (diff.mean(), diff.max())  # measured: 1.2e-4, 0.0074
