"""A headless OpenGL 3.3 core context on Mesa's surfaceless EGL platform (no display server)."""

from __future__ import annotations

import ctypes

from engine import AvatarError, ErrorCode

from .gl import EGL

EGL_PLATFORM_SURFACELESS_MESA = 0x31DD


class SurfacelessContext:
    """Owns an EGL display and context; ``make_current()`` binds it to the calling thread."""

    def __init__(self) -> None:
        self.display = EGL.eglGetPlatformDisplay(EGL_PLATFORM_SURFACELESS_MESA, EGL.EGL_DEFAULT_DISPLAY, None)
        if not self.display:
            raise AvatarError(ErrorCode.playbackInitFailed,
                              "EGL has no surfaceless platform; install Mesa's EGL (libegl-mesa0)")
        major, minor = EGL.EGLint(), EGL.EGLint()
        if not EGL.eglInitialize(self.display, ctypes.pointer(major), ctypes.pointer(minor)):
            raise AvatarError(ErrorCode.playbackInitFailed, "eglInitialize failed on the surfaceless platform")
        EGL.eglBindAPI(EGL.EGL_OPENGL_API)
        attribs = (EGL.EGLint * 5)(EGL.EGL_RENDERABLE_TYPE, EGL.EGL_OPENGL_BIT, EGL.EGL_SURFACE_TYPE, 0, EGL.EGL_NONE)
        config = EGL.EGLConfig()
        count = EGL.EGLint()
        if not EGL.eglChooseConfig(self.display, attribs, ctypes.pointer(config), 1, ctypes.pointer(count)) \
                or count.value < 1:
            raise AvatarError(ErrorCode.playbackInitFailed, "EGL offers no OpenGL config without a surface")
        ctx_attribs = (EGL.EGLint * 7)(EGL.EGL_CONTEXT_MAJOR_VERSION, 3, EGL.EGL_CONTEXT_MINOR_VERSION, 3,
                                       EGL.EGL_CONTEXT_OPENGL_PROFILE_MASK, EGL.EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT,
                                       EGL.EGL_NONE)
        self.context = EGL.eglCreateContext(self.display, config, EGL.EGL_NO_CONTEXT, ctx_attribs)
        if not self.context:
            raise AvatarError(ErrorCode.playbackInitFailed, "EGL could not create an OpenGL 3.3 core context")

    def make_current(self) -> None:
        if not EGL.eglMakeCurrent(self.display, EGL.EGL_NO_SURFACE, EGL.EGL_NO_SURFACE, self.context):
            raise AvatarError(ErrorCode.playbackInitFailed, "eglMakeCurrent failed for the surfaceless context")

    def release(self) -> None:
        if self.display:
            EGL.eglMakeCurrent(self.display, EGL.EGL_NO_SURFACE, EGL.EGL_NO_SURFACE, EGL.EGL_NO_CONTEXT)
            if self.context:
                EGL.eglDestroyContext(self.display, self.context)
            # the display stays initialised: EGL shares it with every other context in the process
        self.display = self.context = None
