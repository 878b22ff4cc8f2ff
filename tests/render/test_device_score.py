"""Device score: backend choice rules, subprocess probing with a timeout, per-fingerprint cache."""

from __future__ import annotations

import json

import pytest

from engine import AvatarSDK, hookimpl
from engine.contracts.renderer import BackendScore
from engine.plugins import get_plugin_manager, reset_plugin_manager
from engine.render import device_score as ds
from engine.render.choice import pick_backend
from engine.runtime import runtime


def _s(name, ms, gpu=False, available=True):
    return BackendScore(name, available, gpu, ms, "test")


def test_fastest_wins_and_the_reason_says_why():
    name, reason = pick_backend([_s("cpu", 30.0), _s("wgpu", 45.0), _s("opengl", None, available=False)])
    assert name == "cpu" and "fastest" in reason and "wgpu 45.0" in reason


def test_gpu_within_ten_percent_is_preferred():
    assert pick_backend([_s("cpu", 30.0), _s("wgpu", 32.9, gpu=True)])[0] == "wgpu"
    assert pick_backend([_s("cpu", 30.0), _s("wgpu", 33.1, gpu=True)])[0] == "cpu"


def test_nothing_usable():
    name, reason = pick_backend([_s("cpu", None, available=False)])
    assert name is None and "no backend" in reason


class _Chooser:
    @hookimpl
    def choose_renderer(self, scores):
        return "opengl"


def test_choose_renderer_hook_overrides():
    pm = get_plugin_manager()
    plugin = _Chooser()
    pm.pm.register(plugin, name="test-chooser")
    try:
        name, reason = pick_backend([_s("cpu", 10.0), _s("opengl", 50.0)])
        assert name == "opengl" and "choose_renderer" in reason
        # a choice that did not run here is ignored
        assert pick_backend([_s("cpu", 10.0), _s("opengl", None, available=False)])[0] == "cpu"
    finally:
        pm.pm.unregister(plugin)


def test_a_hanging_probe_times_out_instead_of_hanging_the_app():
    score = ds._run_probe("cpu", timeout=0.05)
    assert not score.available and "timed out" in score.reason


def test_unknown_backend_probe_fails_cleanly():
    score = ds._run_probe("no-such-backend", timeout=60)
    assert not score.available and "probe process failed" in score.reason


async def test_device_score_measures_in_a_subprocess_and_caches(monkeypatch, tmp_path):
    monkeypatch.setenv("FACECAST_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("FACECAST_LOAD_PLUGINS", "cpu")  # one backend keeps the test short
    reset_plugin_manager()
    try:
        score = await AvatarSDK.device_score()
        assert score.backend == "cpu" and not score.cached
        assert score.cpu_score and score.cpu_score > 0 and score.gpu_score is None
        assert score.supported == (score.cpu_score >= ds.SUPPORTED_FPS)
        assert await AvatarSDK.is_device_supported() == score.supported
        files = list(tmp_path.glob("device-score-*.json"))
        assert len(files) == 1 and score.fingerprint in files[0].name
        assert json.loads(files[0].read_text())["scores"][0]["name"] == "cpu"
        again = ds.measure_sync()
        assert again.cached and again.cpu_score == score.cpu_score
        monkeypatch.setenv("LP_NUM_THREADS", "1")  # a different machine setup → a different fingerprint
        assert ds.hardware_fingerprint(["cpu"]) != score.fingerprint
    finally:
        reset_plugin_manager()


def test_cli_prints_table_and_choice(monkeypatch, tmp_path, capsys):
    from engine.cli import main

    monkeypatch.setenv("FACECAST_CACHE_DIR", str(tmp_path))
    cached = {"measured_at": 1.0, "scores": [
        {"name": n, "available": True, "gpu": False, "ms_per_frame": ms, "reason": "cached for the test"}
        for n, ms in (("cpu", 20.0), ("opengl", 80.0), ("wgpu", 70.0))]}
    fp = ds.hardware_fingerprint(get_plugin_manager().names("renderers"))
    (tmp_path / f"device-score-{fp}.json").write_text(json.dumps(cached))
    assert main(["device-score"]) == 0
    out = capsys.readouterr().out
    assert "chosen backend: cpu" in out and "20.0" in out and "(cached)" in out
    assert "supported: yes" in out


async def test_views_follow_the_device_score_choice(sdk):
    from engine.render.choice import backend_for_view

    assert backend_for_view(window=False) == "cpu"
    runtime().device_score = ds.score_from([_s("cpu", 50.0), _s("opengl", 20.0), _s("wgpu", 30.0)], "fp")
    assert backend_for_view(window=False) == "opengl" and backend_for_view(window=True) == "opengl"
    await AvatarSDK.initialize("test-app", {"renderer": "wgpu", "drivingServiceMode": "backend"})
    assert backend_for_view(window=False) == "wgpu"
