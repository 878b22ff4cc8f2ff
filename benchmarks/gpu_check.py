"""Say which device each GPU render backend really draws on, and fail when it is a software renderer.

``python -m benchmarks.gpu_check [--backends wgpu,opengl]`` (used by ``scripts/gpu-bench``): opens each
backend, reads the adapter (wgpu) or ``GL_RENDERER`` (OpenGL) it got, and exits 1 if any is Mesa's
llvmpipe/lavapipe/softpipe or another CPU rasterizer — timings taken there say nothing about a GPU.
"""

from __future__ import annotations

import argparse
import sys

SOFTWARE = ("llvmpipe", "lavapipe", "softpipe", "swiftshader", "software", "swrast", "microsoft basic")


def is_software(description: str) -> bool:
    low = description.lower()
    return any(word in low for word in SOFTWARE)


def wgpu_device() -> tuple[str, bool]:
    import wgpu

    adapter = wgpu.gpu.request_adapter_sync(power_preference="high-performance")
    if adapter is None:
        return "no adapter", False
    info = adapter.info
    text = (f"{info.get('device', '?')} ({info.get('vendor', '?')}, {info.get('backend_type', '?')}, "
            f"{info.get('adapter_type', '?')}, driver {info.get('description', '?')})")
    return text, info.get("adapter_type") in ("DiscreteGPU", "IntegratedGPU") and not is_software(text)


def opengl_device() -> tuple[str, bool]:
    from engine.plugins import get_plugin_manager

    renderer = get_plugin_manager().get("renderers", "opengl").factory()
    renderer.open(16, 16)  # first: the backend chooses PyOpenGL's EGL platform before OpenGL is imported
    from OpenGL import GL

    try:
        text = " / ".join(GL.glGetString(name).decode(errors="replace")
                          for name in (GL.GL_VENDOR, GL.GL_RENDERER, GL.GL_VERSION))
    finally:
        renderer.close()
    return text, not is_software(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu_check", description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="wgpu,opengl")
    args = parser.parse_args(argv)
    checks = {"wgpu": wgpu_device, "opengl": opengl_device}
    failed = []
    for name in args.backends.split(","):
        try:
            text, hardware = checks[name]()
        except Exception as exc:  # a backend that cannot start is reported, not a crash of the check
            text, hardware = f"cannot start: {type(exc).__name__}: {exc}", False
        print(f"{name:7s} {'hardware' if hardware else 'NOT A GPU'}: {text}")
        if not hardware:
            failed.append(name)
    if failed:
        print(f"refusing: {', '.join(failed)} would not run on a hardware GPU driver here (Mesa or no driver); "
              "on an NVIDIA machine check that the container exposes graphics (NVIDIA_DRIVER_CAPABILITIES "
              "includes graphics, so /usr/share/vulkan/icd.d/nvidia_icd.json and the glvnd EGL vendor file exist)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
