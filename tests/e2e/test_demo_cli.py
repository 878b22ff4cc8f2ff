"""``facecast demo --output`` on a headless machine writes a video whose mouth moves with the speech."""

from __future__ import annotations

import os
import subprocess
import sys
import wave

import av
import numpy as np

from engine.demo import SPEECH_CLIP
from engine.demo.audio import load_speech
from engine.demo.video import BACKGROUND
from engine.motion import layout
from engine.plugins import get_plugin_manager
from engine.config import DEFAULT_MOTION_GENERATOR


def write_wav(path, pcm: np.ndarray, rate: int) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.astype("<i2").tobytes())


def test_demo_writes_a_lip_synced_video_headless(tmp_path):
    pcm, _ = load_speech(SPEECH_CLIP, 16000)
    # 11025 Hz is not a protocol rate: the demo must resample it (to 16 kHz).
    src = np.interp(np.arange(0, 2.0, 1 / 11025), np.arange(pcm.size) / 16000, pcm).astype(np.int16)
    speech = tmp_path / "speech-11k.wav"
    write_wav(speech, src, 11025)
    out = tmp_path / "demo.mp4"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    proc = subprocess.run([sys.executable, "-m", "engine", "demo", str(speech), "--output", str(out), "--size", "128",
                           "--backend", "cpu"], env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "wrote" in proc.stdout and "× real time" in proc.stdout
    assert "fps" in proc.stderr and "ETA" in proc.stderr  # the progress line (plain lines when not a terminal)
    with av.open(str(out)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert video.codec_context.name in ("h264", "mpeg4") and audio.codec_context.name == "aac"
        assert (video.width, video.height, audio.codec_context.sample_rate) == (128, 128, 16000)
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video)]
    with av.open(str(out)) as container:
        samples = sum(f.samples for f in container.decode(container.streams.audio[0]))
    seconds = samples / 16000
    assert 2.0 <= seconds < 2.0 + 0.6  # the speech plus the short idle tail
    assert abs(len(frames) / 25 - seconds) < 0.1  # one frame per 40 ms of audio
    h, w = frames[0].shape[:2]
    assert np.abs(frames[0][2, 2].astype(int) - BACKGROUND).max() <= 4  # drawn over the window's background
    dark = np.array([(f[int(0.62 * h):int(0.85 * h), int(0.35 * w):int(0.65 * w)].mean(axis=2) < 60).mean()
                     for f in frames])
    # The encoded mouth follows the motion the server's default generator makes for the speech the
    # demo played: the 11 kHz file as the demo resampled it (no energy above 5.5 kHz, unlike `pcm`).
    played, rate = load_speech(speech)
    assert rate == 16000
    generator = get_plugin_manager().get("motion_generators", DEFAULT_MOTION_GENERATOR).factory(16000, 50, 0)
    jaw = np.concatenate([generator.feed(played), generator.finish()])[:50, layout.JAW.start]
    assert np.corrcoef(dark[:50], jaw)[0, 1] > 0.5


def _cache_files(folder) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*") if p.suffix in (".nbi", ".nbc")}


def test_precompile_fills_an_empty_cache_with_every_kernel_the_demo_uses(tmp_path):
    """What scripts/setup relies on: after ``facecast precompile`` the demo compiles nothing."""
    cache = tmp_path / "numba-cache"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["NUMBA_CACHE_DIR"] = str(cache)
    proc = subprocess.run([sys.executable, "-m", "engine", "precompile", "--backend", "cpu"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "kernels ready for the cpu backend" in proc.stdout
    compiled = _cache_files(cache)
    for kernel in ("raster", "decode_kernel", "project", "sort"):
        assert any(kernel in name for name in compiled), f"no cached {kernel} kernel in {sorted(compiled)}"

    pcm, rate = load_speech(SPEECH_CLIP, 16000)
    speech = tmp_path / "speech.wav"
    write_wav(speech, pcm[: rate], rate)
    proc = subprocess.run([sys.executable, "-m", "engine", "demo", str(speech), "--output", str(tmp_path / "d.mp4"),
                           "--size", "96", "--backend", "cpu"], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    after = _cache_files(cache)
    assert after == compiled, f"the demo compiled kernels precompile missed: {sorted(set(after.items()) - set(compiled.items()))}"
