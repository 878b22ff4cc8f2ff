"""The ``opengl`` renderer: the wgpu backend's algorithm on OpenGL 3.3 core through PyOpenGL.

Splats are instanced quads drawn front to back into an RGBA16F framebuffer object with the
"under" blend (dst += src·(1 − dst.a)); a full-screen pass adds the background under them.
Headless it runs on a surfaceless EGL context; with a glfw window (created with the EGL context
API, see ``gl.py``) it blits the FBO to the window and swaps.
"""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

from engine import AvatarError, ErrorCode
from engine.kit import INSTANCE_BYTES, InstanceBuffer, to_rgba8

from . import shaders
from .gl import GL, PLATFORM_ERROR

GLFW_HINTS_NAMES = {"CLIENT_API": "OPENGL_API", "CONTEXT_CREATION_API": "EGL_CONTEXT_API",
                    "CONTEXT_VERSION_MAJOR": 3, "CONTEXT_VERSION_MINOR": 3,
                    "OPENGL_PROFILE": "OPENGL_CORE_PROFILE", "OPENGL_FORWARD_COMPAT": True}


def _compile(vs: str, fs: str) -> int:
    program = GL.glCreateProgram()
    for src, kind in ((vs, GL.GL_VERTEX_SHADER), (fs, GL.GL_FRAGMENT_SHADER)):
        shader = GL.glCreateShader(kind)
        GL.glShaderSource(shader, src)
        GL.glCompileShader(shader)
        if not GL.glGetShaderiv(shader, GL.GL_COMPILE_STATUS):
            raise AvatarError(ErrorCode.playbackInitFailed,
                              f"OpenGL shader failed to compile: {GL.glGetShaderInfoLog(shader).decode(errors='replace')}")
        GL.glAttachShader(program, shader)
        GL.glDeleteShader(shader)
    GL.glLinkProgram(program)
    if not GL.glGetProgramiv(program, GL.GL_LINK_STATUS):
        raise AvatarError(ErrorCode.playbackInitFailed,
                          f"OpenGL program failed to link: {GL.glGetProgramInfoLog(program).decode(errors='replace')}")
    return program


class OpenGLRenderer:
    """One GL context (EGL surfaceless or a glfw window's), used only from the thread that opened it."""

    name = "opengl"
    stops_at_min_transmittance = False  # the blend unit cannot skip the splat that would take T to <= 1e-4
    glfw_hints = GLFW_HINTS_NAMES

    def __init__(self) -> None:
        self._egl = None
        self._window = None
        self._instances = InstanceBuffer(1024)
        self._vbo_bytes = 0
        self._fbo = None

    # -- lifetime -----------------------------------------------------------------------------

    def open(self, width: int, height: int, window: Any = None) -> None:
        if PLATFORM_ERROR:
            raise AvatarError(ErrorCode.playbackInitFailed, PLATFORM_ERROR)
        if window is None:
            from .egl import SurfacelessContext

            self._egl = SurfacelessContext()
            self._egl.make_current()
        else:
            import glfw

            self._window = window
            glfw.make_context_current(window)
            glfw.swap_interval(0)  # the view paces frames itself
        self._splat_program = _compile(shaders.SPLAT_VS, shaders.SPLAT_FS)
        self._background_program = _compile(shaders.FULLSCREEN_VS, shaders.BACKGROUND_FS)
        self._u_size = GL.glGetUniformLocation(self._splat_program, "size")
        self._u_background = GL.glGetUniformLocation(self._background_program, "background")
        self._vao = GL.glGenVertexArrays(1)
        self._empty_vao = GL.glGenVertexArrays(1)
        self._vbo = GL.glGenBuffers(1)
        GL.glBindVertexArray(self._vao)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self._vbo)
        for loc in range(3):
            GL.glEnableVertexAttribArray(loc)
            GL.glVertexAttribPointer(loc, 4, GL.GL_FLOAT, GL.GL_FALSE, INSTANCE_BYTES, ctypes.c_void_p(16 * loc))
            GL.glVertexAttribDivisor(loc, 1)
        GL.glBindVertexArray(0)
        self._reserve()
        self.resize(width, height)

    def _reserve(self) -> None:
        need = self._instances.array.nbytes
        if need > self._vbo_bytes:
            GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self._vbo)
            GL.glBufferData(GL.GL_ARRAY_BUFFER, need, None, GL.GL_STREAM_DRAW)
            self._vbo_bytes = need

    def resize(self, width: int, height: int) -> None:
        if width <= 0 or height <= 0:
            raise AvatarError(ErrorCode.playbackInitFailed, f"render target must be at least 1×1, not {width}×{height}")
        self._width, self._height = int(width), int(height)
        if self._fbo is not None:
            GL.glDeleteFramebuffers(1, [self._fbo])
            GL.glDeleteTextures([self._texture])
        self._texture = GL.glGenTextures(1)
        GL.glBindTexture(GL.GL_TEXTURE_2D, self._texture)
        GL.glTexImage2D(GL.GL_TEXTURE_2D, 0, GL.GL_RGBA16F, self._width, self._height, 0, GL.GL_RGBA, GL.GL_FLOAT, None)
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MIN_FILTER, GL.GL_LINEAR)
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MAG_FILTER, GL.GL_LINEAR)
        self._fbo = GL.glGenFramebuffers(1)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self._fbo)
        GL.glFramebufferTexture2D(GL.GL_FRAMEBUFFER, GL.GL_COLOR_ATTACHMENT0, GL.GL_TEXTURE_2D, self._texture, 0)
        status = GL.glCheckFramebufferStatus(GL.GL_FRAMEBUFFER)
        if status != GL.GL_FRAMEBUFFER_COMPLETE:
            raise AvatarError(ErrorCode.playbackInitFailed, f"OpenGL cannot render to an RGBA16F target (status {status:#x})")
        self._float = np.zeros((self._height, self._width, 4), np.float32)
        self._flipped = np.zeros_like(self._float)
        self._rgba8 = np.zeros((self._height, self._width, 4), np.uint8)

    def close(self) -> None:
        if self._egl is None and self._window is None:
            return
        try:
            if self._window is not None:
                import glfw

                glfw.make_context_current(self._window)
            GL.glDeleteFramebuffers(1, [self._fbo])
            GL.glDeleteTextures([self._texture])
            GL.glDeleteBuffers(1, [self._vbo])
            GL.glDeleteVertexArrays(2, [self._vao, self._empty_vao])
            GL.glDeleteProgram(self._splat_program)
            GL.glDeleteProgram(self._background_program)
        finally:
            if self._egl is not None:
                self._egl.release()
            if self._window is not None:
                import glfw

                glfw.make_context_current(None)
            self._egl = self._window = None
            self._fbo = None

    # -- drawing ------------------------------------------------------------------------------

    def draw(self, frame: Any, background: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> None:
        if self._egl is None and self._window is None:
            raise AvatarError(ErrorCode.animationPlayerNotInitialized, "call open(width, height) before draw()")
        if (frame.width, frame.height) != (self._width, self._height):
            self.resize(frame.width, frame.height)
        count = self._instances.fill(frame)
        self._reserve()
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self._fbo)
        GL.glViewport(0, 0, self._width, self._height)
        GL.glClearColor(0.0, 0.0, 0.0, 0.0)
        GL.glClear(GL.GL_COLOR_BUFFER_BIT)
        GL.glEnable(GL.GL_BLEND)
        if count:
            GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self._vbo)
            GL.glBufferSubData(GL.GL_ARRAY_BUFFER, 0, count * INSTANCE_BYTES, self._instances.array)
            GL.glBlendFuncSeparate(GL.GL_ONE_MINUS_DST_ALPHA, GL.GL_ONE, GL.GL_ONE_MINUS_DST_ALPHA, GL.GL_ONE)
            GL.glUseProgram(self._splat_program)
            GL.glUniform2f(self._u_size, float(self._width), float(self._height))
            GL.glBindVertexArray(self._vao)
            GL.glDrawArraysInstanced(GL.GL_TRIANGLE_STRIP, 0, 4, count)
        GL.glBlendFuncSeparate(GL.GL_ONE_MINUS_DST_ALPHA, GL.GL_ONE, GL.GL_ZERO, GL.GL_ONE)
        GL.glUseProgram(self._background_program)
        GL.glUniform3f(self._u_background, *map(float, background))
        GL.glBindVertexArray(self._empty_vao)
        GL.glDrawArrays(GL.GL_TRIANGLES, 0, 3)
        GL.glBindVertexArray(0)
        GL.glDisable(GL.GL_BLEND)
        if self._window is not None:
            self._present()
        else:
            GL.glFlush()

    def _present(self) -> None:
        import glfw

        fw, fh = glfw.get_framebuffer_size(self._window)
        if fw and fh:
            GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, self._fbo)
            GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, 0)
            GL.glBlitFramebuffer(0, 0, self._width, self._height, 0, 0, fw, fh, GL.GL_COLOR_BUFFER_BIT, GL.GL_LINEAR)
            glfw.swap_buffers(self._window)

    def read_float(self) -> np.ndarray:
        """The last frame as float32 (H, W, 4), top row first; valid until the next call."""
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, self._fbo)
        GL.glPixelStorei(GL.GL_PACK_ALIGNMENT, 4)
        GL.glReadPixels(0, 0, self._width, self._height, GL.GL_RGBA, GL.GL_FLOAT, self._flipped)
        np.copyto(self._float, self._flipped[::-1])  # GL rows are bottom-up
        return self._float

    def read_rgba(self) -> np.ndarray:
        self.read_float()
        return to_rgba8(self._float, self._rgba8)
