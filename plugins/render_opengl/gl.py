"""Import PyOpenGL on its EGL platform.

PyOpenGL picks its platform (GLX, EGL, ...) once, at first import, process-wide. This backend
uses EGL for both of its paths — surfaceless EGL offscreen, and glfw windows created with
``GLFW_EGL_CONTEXT_API`` — so one platform serves both. If PyOpenGL was already imported on
another platform, :data:`PLATFORM_ERROR` says so and the probe reports the backend unavailable.
"""

from __future__ import annotations

import os
import sys

PLATFORM_ERROR: str | None = None

if "OpenGL" not in sys.modules:
    os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

from OpenGL import EGL, GL  # noqa: E402
from OpenGL import platform as _platform  # noqa: E402

if type(_platform.PLATFORM).__name__ != "EGLPlatform":
    PLATFORM_ERROR = (f"PyOpenGL was imported on the {type(_platform.PLATFORM).__name__} platform before the "
                      "opengl backend; set PYOPENGL_PLATFORM=egl before importing OpenGL")

__all__ = ["EGL", "GL", "PLATFORM_ERROR"]
