"""scripts/gpu-bench refuses clearly where it cannot measure a GPU: no NVIDIA GPU, or a Mesa software driver."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from benchmarks.gpu_check import is_software

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "gpu-bench"


def test_software_renderers_are_recognised():
    assert is_software("Mesa/X.org / llvmpipe (LLVM 15.0.6, 256 bits) / 4.5 (Core Profile) Mesa 22.3.6")
    assert is_software("lavapipe") and is_software("Google SwiftShader")
    assert not is_software("NVIDIA Corporation / NVIDIA H200/PCIe/SSE2 / 4.6.0 NVIDIA 550.54.15")


@pytest.mark.skipif(shutil.which("nvidia-smi") is not None, reason="this machine has nvidia-smi")
def test_refuses_without_an_nvidia_gpu():
    proc = subprocess.run([str(SCRIPT)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "no NVIDIA GPU" in proc.stderr


@pytest.mark.gpu
def test_refuses_on_a_software_driver():
    from plugins.render_wgpu import probe

    if probe().gpu:
        pytest.skip("this machine has a hardware Vulkan adapter")
    env = dict(os.environ, GPU_BENCH_SKIP_NVIDIA_SMI="1", GPU_BENCH_NO_INSTALL="1", EGL_PLATFORM="surfaceless")
    proc = subprocess.run([str(SCRIPT)], capture_output=True, text=True, timeout=180, env=env)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "wgpu    NOT A GPU" in proc.stdout and "opengl  NOT A GPU" in proc.stdout
    assert "refusing to benchmark" in proc.stderr
