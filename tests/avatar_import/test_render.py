"""An imported avatar renders with every backend like the cpu reference, and replays its tracked motion."""

from __future__ import annotations

import numpy as np
import pytest

from engine.avatar.gaussian_avatars import motion_of_run
from engine.cli import main
from engine.render.backends import backend_names, probe_backend
from engine.render.replay import replay_frames

from conformance.scenes import psnr


def _available():
    return [n for n in backend_names() if n in ("cpu", "wgpu", "opengl") and probe_backend(n).available]


@pytest.mark.parametrize("backend", ["wgpu", "opengl"])
def test_every_backend_draws_the_imported_avatar(imported, run_dir, backend):
    if backend not in _available():
        pytest.skip(f"{backend} cannot run here")
    avatar, _ = imported
    keyframes = motion_of_run(next(run_dir.glob("point_cloud/iteration_*/flame_param.npz")))[[0, 15]]
    want = [f.astype(np.float32) / 255 for f in replay_frames(avatar, keyframes, 96, 96, backend="cpu")]
    got = [f.astype(np.float32) / 255 for f in replay_frames(avatar, keyframes, 96, 96, backend=backend)]
    assert want[0][..., 3].mean() > 0.1  # the head is in view
    for g, w in zip(got, want):
        assert psnr(g, w) >= 40.0, f"{backend}: PSNR {psnr(g, w):.1f} dB"


def test_render_motion_writes_one_frame_per_keyframe(imported, run_dir, tmp_path):
    import av

    _, package = imported
    params = next(run_dir.glob("point_cloud/iteration_*/flame_param.npz"))
    out = tmp_path / "replay.mp4"
    assert main(["render", str(package), "--motion", str(params), "--output", str(out), "--backend", "cpu",
                 "--width", "64", "--height", "64"]) == 0
    with av.open(str(out)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == 30 and frames[0].shape == (64, 64, 3)
    assert np.abs(frames[0].astype(int) - frames[20]).mean() > 1.0  # the head moves


def test_a_view_draws_sh_colour_at_the_tier_degree(imported):
    from engine.render.containers import Offscreen
    from engine.render.view import AvatarView

    avatar, _ = imported
    view = AvatarView(avatar, Offscreen(64, 64), backend="cpu")
    try:
        assert view.export_bitmap(timeout=120)
        assert view._render._preparer.sh_degree == 3  # the default tier, ultra, evaluates SH 3
    finally:
        view.dispose()
