"""Built-in ``opengl`` render backend: instanced splat quads on OpenGL 3.3 core through PyOpenGL,
headless on surfaceless EGL, windowed through glfw."""

from __future__ import annotations

import engine
from engine.kit import ProbeResult


def probe() -> ProbeResult:
    """Initialise the (shared) surfaceless EGL display and read its vendor; creates no context."""
    try:
        from .gl import EGL, PLATFORM_ERROR
    except Exception as exc:  # PyOpenGL or libEGL missing
        return ProbeResult(False, False, f"PyOpenGL/EGL cannot load: {exc}")
    if PLATFORM_ERROR:
        return ProbeResult(False, False, PLATFORM_ERROR)
    import ctypes

    from .egl import EGL_PLATFORM_SURFACELESS_MESA

    display = EGL.eglGetPlatformDisplay(EGL_PLATFORM_SURFACELESS_MESA, EGL.EGL_DEFAULT_DISPLAY, None)
    major, minor = EGL.EGLint(), EGL.EGLint()
    if not display or not EGL.eglInitialize(display, ctypes.pointer(major), ctypes.pointer(minor)):
        return ProbeResult(False, False, "no EGL surfaceless display (install libegl-mesa0)")
    # No eglTerminate: the display handle is shared process-wide, and terminating it would
    # break any context another renderer has open on it.
    vendor = EGL.eglQueryString(display, EGL.EGL_VENDOR).decode(errors="replace")
    # Mesa's surfaceless platform renders with llvmpipe unless a render node is present.
    import glob

    gpu = bool(glob.glob("/dev/dri/renderD*"))
    return ProbeResult(True, gpu, f"EGL {major.value}.{minor.value} ({vendor}, "
                                  f"{'render node' if gpu else 'llvmpipe software'})")


def make_renderer():
    from .renderer import OpenGLRenderer

    return OpenGLRenderer()


@engine.hookimpl
def register_renderers(register):
    register("opengl", make_renderer, probe)
