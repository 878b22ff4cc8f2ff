"""``measure_device_score()``: time every available backend on the real workload, pick one, cache it.

Each backend is probed and timed in its own subprocess with a timeout, so a driver that crashes
or hangs costs a row of the table, not the app. Results are cached per hardware fingerprint in
the user cache directory (``FACECAST_CACHE_DIR`` overrides).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import attrs

from ..contracts.renderer import BackendScore
from ..plugins import get_plugin_manager
from ..version import __version__
from .choice import pick_backend

PROBE_TIMEOUT_S = 120.0  # first run may compile numba kernels
SUPPORTED_FPS = 25.0  # the motion rate: below it the avatar cannot show every keyframe


@attrs.frozen
class DeviceScore:
    """Scores are frames per second on the workload (higher is better); None when no backend of that kind ran."""

    cpu_score: float | None
    gpu_score: float | None
    supported: bool
    backend: str | None
    reason: str
    scores: tuple[BackendScore, ...]
    fingerprint: str
    cached: bool = False
    measured_at: float = 0.0

    def table(self) -> list[dict]:
        return [{"backend": s.name, "available": s.available, "gpu": s.gpu,
                 "ms_per_frame": s.ms_per_frame,
                 "fps": None if not s.ms_per_frame else 1000.0 / s.ms_per_frame, "reason": s.reason}
                for s in self.scores]


def cache_dir() -> Path:
    env = os.environ.get("FACECAST_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "facecast"


def hardware_fingerprint(names: list[str]) -> str:
    """A hash of what decides render speed: CPU, core count, GPU devices and drivers, library versions."""
    parts = [platform.machine(), platform.system(), platform.release(), str(os.cpu_count()), __version__,
             sys.version.split()[0], ",".join(names)]
    try:
        parts += [line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")][:1]
    except OSError:
        pass
    for folder in ("/dev/dri", "/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d"):
        try:
            parts.append(",".join(sorted(os.listdir(folder))))
        except OSError:
            parts.append("-")
    for var in ("NUMBA_NUM_THREADS", "LP_NUM_THREADS", "VK_ICD_FILENAMES", "EGL_PLATFORM", "FACECAST_LOAD_PLUGINS"):
        parts.append(f"{var}={os.environ.get(var, '')}")
    for mod in ("numba", "wgpu", "OpenGL"):
        try:
            from importlib.metadata import version

            parts.append(f"{mod}={version({'OpenGL': 'PyOpenGL'}.get(mod, mod))}")
        except Exception:
            parts.append(f"{mod}=?")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _run_probe(name: str, timeout: float) -> BackendScore:
    try:
        proc = subprocess.run([sys.executable, "-m", "engine.render.device_probe", name], capture_output=True,
                              text=True, timeout=timeout, env={**os.environ, "EGL_PLATFORM": os.environ.get(
                                  "EGL_PLATFORM", "surfaceless")})
    except subprocess.TimeoutExpired:
        return BackendScore(name, False, False, None, f"timed out after {timeout:.0f} s (driver hang?)")
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return BackendScore(name, False, False, None, f"probe process failed (exit {proc.returncode}): {tail}")
    data = json.loads(lines[-1])
    return BackendScore(data["name"], data["available"], data["gpu"], data["ms_per_frame"], data["reason"])


def score_from(scores: list[BackendScore], fingerprint: str, cached: bool = False,
               measured_at: float | None = None) -> DeviceScore:
    def best(gpu: bool) -> float | None:
        ms = [s.ms_per_frame for s in scores if s.available and s.ms_per_frame and s.gpu == gpu]
        return round(1000.0 / min(ms), 2) if ms else None

    backend, reason = pick_backend(scores)
    fps = [v for v in (best(False), best(True)) if v is not None]
    return DeviceScore(cpu_score=best(False), gpu_score=best(True), supported=bool(fps) and max(fps) >= SUPPORTED_FPS,
                       backend=backend, reason=reason, scores=tuple(scores), fingerprint=fingerprint, cached=cached,
                       measured_at=measured_at or time.time())


def measure_sync(*, use_cache: bool = True, timeout: float = PROBE_TIMEOUT_S) -> DeviceScore:
    names = get_plugin_manager().names("renderers")
    fingerprint = hardware_fingerprint(names)
    path = cache_dir() / f"device-score-{fingerprint}.json"
    if use_cache and path.exists():
        try:
            data = json.loads(path.read_text())
            scores = [BackendScore(**s) for s in data["scores"]]
            return score_from(scores, fingerprint, cached=True, measured_at=data["measured_at"])
        except (OSError, ValueError, KeyError, TypeError):
            pass  # unreadable cache: measure again
    scores = [_run_probe(name, timeout) for name in names]  # one at a time: they compete for the same cores
    result = score_from(scores, fingerprint)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"measured_at": result.measured_at,
                                   "scores": [attrs.asdict(s) for s in scores]}, indent=2))
        tmp.replace(path)
    except OSError:
        pass  # a read-only cache only costs a re-measure next time
    return result


async def measure_device_score(*, use_cache: bool = True, timeout: float = PROBE_TIMEOUT_S) -> DeviceScore:
    """Benchmark every registered renderer (in subprocesses, off the event loop) and choose one."""
    return await asyncio.get_running_loop().run_in_executor(
        None, lambda: measure_sync(use_cache=use_cache, timeout=timeout))
