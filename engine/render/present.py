"""Show a rendered image in a glfw window through wgpu (Vulkan/Metal/D3D12 surface).

Used by the ``wgpu`` backend to present its float target, and by the ``cpu`` backend to show
the frames it rasterizes, so both render into windows the same way.
"""

from __future__ import annotations

from typing import Any

import numpy as np

BLIT_WGSL = """
@group(0) @binding(0) var image: texture_2d<f32>;
@group(0) @binding(1) var image_sampler: sampler;
@group(0) @binding(2) var<uniform> surface: vec4<f32>;

@vertex
fn vs_main(@builtin(vertex_index) vi: u32) -> @builtin(position) vec4<f32> {
    let uv = vec2<f32>(f32((vi << 1u) & 2u), f32(vi & 2u));
    return vec4<f32>(uv * 2.0 - 1.0, 0.0, 1.0);
}

@fragment
fn fs_main(@builtin(position) pos: vec4<f32>) -> @location(0) vec4<f32> {
    let c = textureSample(image, image_sampler, pos.xy / surface.xy);
    return vec4<f32>(clamp(c.rgb, vec3<f32>(0.0), vec3<f32>(1.0)), 1.0);
}
"""


class SurfacePresenter:
    """Blits a texture, scaled to fit, onto a glfw window's wgpu surface; one per window."""

    def __init__(self, adapter: Any, device: Any, window: Any) -> None:
        import wgpu
        from rendercanvas.glfw import get_glfw_present_info, get_physical_size

        self._wgpu = wgpu
        self._device = device
        self._window = window
        self._physical_size = get_physical_size
        # vsync off: the view's render loop paces frames, and a FIFO present under a virtual X
        # server (no vblank) can block the render thread indefinitely
        self.context = wgpu.gpu.get_canvas_context({**get_glfw_present_info(window), "vsync": False})
        self.context.set_physical_size(*get_physical_size(window))
        formats = self.context._get_capabilities(adapter)["formats"]
        plain = [f for f in formats if not f.endswith("srgb")]  # colours are already display-encoded
        self.format = plain[0] if plain else formats[0]
        self.context.configure(device=device, format=self.format)
        module = device.create_shader_module(code=BLIT_WGSL)
        self._uniform = device.create_buffer(size=16, usage=wgpu.BufferUsage.UNIFORM | wgpu.BufferUsage.COPY_DST)
        self._sampler = device.create_sampler(min_filter="linear", mag_filter="linear")
        self._pipeline = device.create_render_pipeline(
            layout="auto",
            vertex={"module": module, "entry_point": "vs_main", "buffers": []},
            primitive={"topology": wgpu.PrimitiveTopology.triangle_list},
            fragment={"module": module, "entry_point": "fs_main", "targets": [{"format": self.format}]},
        )
        self._bind_group = None
        self._source = None
        self._size = np.zeros(4, np.float32)

    def set_source(self, texture_view: Any) -> None:
        """The texture to show (call again after the renderer recreates its target)."""
        self._source = texture_view
        self._bind_group = None

    def encode(self, encoder: Any) -> bool:
        """Record the blit into ``encoder``; False when the window has no area (minimised)."""
        wgpu = self._wgpu
        size = self._physical_size(self._window)
        if size[0] == 0 or size[1] == 0:
            return False
        if tuple(self._size[:2]) != size:
            self.context.set_physical_size(*size)
            self._size[:2] = size
        self._device.queue.write_buffer(self._uniform, 0, self._size)
        if self._bind_group is None:
            self._bind_group = self._device.create_bind_group(
                layout=self._pipeline.get_bind_group_layout(0), entries=[
                    {"binding": 0, "resource": self._source},
                    {"binding": 1, "resource": self._sampler},
                    {"binding": 2, "resource": {"buffer": self._uniform, "offset": 0, "size": 16}}])
        rp = encoder.begin_render_pass(color_attachments=[{
            "view": self.context.get_current_texture().create_view(), "clear_value": (0, 0, 0, 1),
            "load_op": wgpu.LoadOp.clear, "store_op": wgpu.StoreOp.store}])
        rp.set_pipeline(self._pipeline)
        rp.set_bind_group(0, self._bind_group)
        rp.draw(3, 1)
        rp.end()
        return True

    def present(self) -> None:
        self.context.present()

    def close(self) -> None:
        if self._uniform is not None:
            self._uniform.destroy()
            self._uniform = None
        try:
            self.context.unconfigure()
        except Exception:  # the window may already be gone; nothing left to release then
            pass
        self._bind_group = self._source = None
