"""The ``wgpu`` renderer: sorted instanced quads into an rgba16float target, front to back.

Compositing is gsplat's, done by the blend unit: the target starts at (0, 0, 0, 0) and each
fragment adds ``(c·α, α)·(1 − dst.a)`` (the "under" operator), so ``dst.a`` is 1 − T. A last
full-screen pass adds ``background·(1 − dst.a)``. gsplat's stop at T ≤ 1e-4 cannot be expressed
in the blend unit; the light it would drop is below what the 16-bit target resolves.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import wgpu

from engine import AvatarError, ErrorCode
from engine.kit import INSTANCE_BYTES, InstanceBuffer, to_rgba8

from . import shaders

TARGET_FORMAT = wgpu.TextureFormat.rgba16float
UNDER = {"color": {"src_factor": "one-minus-dst-alpha", "dst_factor": "one", "operation": "add"},
         "alpha": {"src_factor": "one-minus-dst-alpha", "dst_factor": "one", "operation": "add"}}
BACKGROUND_UNDER = {"color": {"src_factor": "one-minus-dst-alpha", "dst_factor": "one", "operation": "add"},
                    "alpha": {"src_factor": "zero", "dst_factor": "one", "operation": "add"}}


def request_device():
    adapter = wgpu.gpu.request_adapter_sync(power_preference="high-performance")
    if adapter is None:
        raise AvatarError(ErrorCode.playbackInitFailed,
                          "wgpu found no adapter; install a Vulkan driver (Mesa's lavapipe: mesa-vulkan-drivers)")
    return adapter, adapter.request_device_sync()


class WgpuRenderer:
    """One device, one target; every call from the view's render thread."""

    name = "wgpu"
    stops_at_min_transmittance = False  # the blend unit cannot skip a splat (see the module docstring)
    glfw_hints = {"CLIENT_API": "NO_API"}  # the window gets a Vulkan/wgpu surface, not a GL context

    def __init__(self) -> None:
        self._device = None
        self._instances = InstanceBuffer(1024)
        self._params = np.zeros(8, np.float32)
        self._presenter = None
        self._count = 0

    # -- lifetime -----------------------------------------------------------------------------

    def open(self, width: int, height: int, window: Any = None) -> None:
        if self._device is None:
            self._adapter, self._device = request_device()
            self._build_pipelines()
        if window is not None:
            from engine.kit import SurfacePresenter

            self._presenter = SurfacePresenter(self._adapter, self._device, window)
        self.resize(width, height)

    def _build_pipelines(self) -> None:
        dev = self._device
        module = dev.create_shader_module(code=shaders.SPLATS)
        self._uniform = dev.create_buffer(size=self._params.nbytes,
                                          usage=wgpu.BufferUsage.UNIFORM | wgpu.BufferUsage.COPY_DST)
        layout = dev.create_bind_group_layout(entries=[{
            "binding": 0, "visibility": wgpu.ShaderStage.VERTEX | wgpu.ShaderStage.FRAGMENT,
            "buffer": {"type": wgpu.BufferBindingType.uniform}}])
        self._bind_group = dev.create_bind_group(layout=layout, entries=[
            {"binding": 0, "resource": {"buffer": self._uniform, "offset": 0, "size": self._params.nbytes}}])
        pipeline_layout = dev.create_pipeline_layout(bind_group_layouts=[layout])
        attrs = [{"format": wgpu.VertexFormat.float32x4, "offset": 16 * i, "shader_location": i} for i in range(3)]
        self._splat_pipeline = dev.create_render_pipeline(
            layout=pipeline_layout,
            vertex={"module": module, "entry_point": "vs_main",
                    "buffers": [{"array_stride": INSTANCE_BYTES, "step_mode": wgpu.VertexStepMode.instance,
                                 "attributes": attrs}]},
            primitive={"topology": wgpu.PrimitiveTopology.triangle_strip},
            fragment={"module": module, "entry_point": "fs_main",
                      "targets": [{"format": TARGET_FORMAT, "blend": UNDER}]},
        )
        self._background_pipeline = dev.create_render_pipeline(
            layout=pipeline_layout,
            vertex={"module": module, "entry_point": "vs_fullscreen", "buffers": []},
            primitive={"topology": wgpu.PrimitiveTopology.triangle_list},
            fragment={"module": module, "entry_point": "fs_background",
                      "targets": [{"format": TARGET_FORMAT, "blend": BACKGROUND_UNDER}]},
        )
        self._vbo = None
        self._reserve(self._instances.capacity)

    def _reserve(self, rows: int) -> None:
        if self._vbo is None or self._vbo.size < rows * INSTANCE_BYTES:
            if self._vbo is not None:
                self._vbo.destroy()
            self._vbo = self._device.create_buffer(size=rows * INSTANCE_BYTES,
                                                   usage=wgpu.BufferUsage.VERTEX | wgpu.BufferUsage.COPY_DST)

    def resize(self, width: int, height: int) -> None:
        if width <= 0 or height <= 0:
            raise AvatarError(ErrorCode.playbackInitFailed, f"render target must be at least 1×1, not {width}×{height}")
        self._width, self._height = int(width), int(height)
        if getattr(self, "_target", None) is not None:
            self._target.destroy()
            self._readback.destroy()
        self._target = self._device.create_texture(
            size=(self._width, self._height, 1), format=TARGET_FORMAT,
            usage=wgpu.TextureUsage.RENDER_ATTACHMENT | wgpu.TextureUsage.COPY_SRC | wgpu.TextureUsage.TEXTURE_BINDING)
        self._target_view = self._target.create_view()
        # rows of the read-back copy are padded to wgpu's 256-byte alignment
        self._row_bytes = -(-self._width * 8 // 256) * 256
        self._readback = self._device.create_buffer(size=self._row_bytes * self._height,
                                                    usage=wgpu.BufferUsage.MAP_READ | wgpu.BufferUsage.COPY_DST)
        self._half = np.zeros((self._height, self._row_bytes // 8, 4), np.float16)
        self._float = np.zeros((self._height, self._width, 4), np.float32)
        self._rgba8 = np.zeros((self._height, self._width, 4), np.uint8)
        if self._presenter is not None:
            self._presenter.set_source(self._target_view)

    def close(self) -> None:
        if self._presenter is not None:
            self._presenter.close()
            self._presenter = None
        for name in ("_target", "_readback", "_vbo", "_uniform"):
            obj = getattr(self, name, None)
            if obj is not None:
                obj.destroy()
                setattr(self, name, None)
        if self._device is not None:
            self._device.destroy()
            self._device = None

    # -- drawing ------------------------------------------------------------------------------

    def draw(self, frame: Any, background: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> None:
        if self._device is None:
            raise AvatarError(ErrorCode.animationPlayerNotInitialized, "call open(width, height) before draw()")
        if (frame.width, frame.height) != (self._width, self._height):
            self.resize(frame.width, frame.height)
        count = self._instances.fill(frame)
        self._reserve(self._instances.capacity)
        if count:
            self._device.queue.write_buffer(self._vbo, 0, self._instances.array[:count])
        self._params[0:4] = (self._width, self._height, 0.0, 0.0)
        self._params[4:7] = background
        self._device.queue.write_buffer(self._uniform, 0, self._params)
        encoder = self._device.create_command_encoder()
        rp = encoder.begin_render_pass(color_attachments=[{
            "view": self._target_view, "clear_value": (0, 0, 0, 0),
            "load_op": wgpu.LoadOp.clear, "store_op": wgpu.StoreOp.store}])
        rp.set_bind_group(0, self._bind_group)
        if count:
            rp.set_pipeline(self._splat_pipeline)
            rp.set_vertex_buffer(0, self._vbo)
            rp.draw(4, count)
        rp.set_pipeline(self._background_pipeline)
        rp.draw(3, 1)
        rp.end()
        shown = self._presenter is not None and self._presenter.encode(encoder)
        self._device.queue.submit([encoder.finish()])
        if shown:
            self._presenter.present()
        self._count = count

    def _copy_back(self) -> None:
        encoder = self._device.create_command_encoder()
        encoder.copy_texture_to_buffer(
            {"texture": self._target, "mip_level": 0, "origin": (0, 0, 0)},
            {"buffer": self._readback, "offset": 0, "bytes_per_row": self._row_bytes, "rows_per_image": self._height},
            (self._width, self._height, 1))
        self._device.queue.submit([encoder.finish()])
        self._readback.map_sync(wgpu.MapMode.READ)
        try:
            data = np.frombuffer(self._readback.read_mapped(copy=False), np.float16)
            np.copyto(self._half.reshape(-1), data)
        finally:
            self._readback.unmap()
        np.copyto(self._float, self._half[:, : self._width])

    def read_float(self) -> np.ndarray:
        """The last frame as float32 (H, W, 4); valid until the next call."""
        self._copy_back()
        return self._float

    def read_rgba(self) -> np.ndarray:
        self._copy_back()
        return to_rgba8(self._float, self._rgba8)
