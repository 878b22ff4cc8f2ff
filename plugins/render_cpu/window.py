"""Shows the cpu backend's frames in a glfw window: upload the RGBA8 image, blit it through wgpu."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine import AvatarError, ErrorCode


class WindowOutput:
    """Owns a wgpu device, an RGBA8 texture the size of the frame, and the window's presenter."""

    def __init__(self, window: Any) -> None:
        import wgpu

        from engine.kit import SurfacePresenter

        self._wgpu = wgpu
        adapter = wgpu.gpu.request_adapter_sync(power_preference="low-power")
        if adapter is None:
            raise AvatarError(ErrorCode.playbackInitFailed,
                              "the cpu backend shows windows through wgpu, which found no adapter; "
                              "install a Vulkan driver (Mesa's lavapipe: mesa-vulkan-drivers)")
        self._device = adapter.request_device_sync()
        self._presenter = SurfacePresenter(adapter, self._device, window)
        self._texture = None
        self._size = (0, 0)

    def show(self, rgba8: np.ndarray) -> None:
        wgpu = self._wgpu
        h, w = rgba8.shape[:2]
        if (w, h) != self._size:
            if self._texture is not None:
                self._texture.destroy()
            self._texture = self._device.create_texture(
                size=(w, h, 1), format=wgpu.TextureFormat.rgba8unorm,
                usage=wgpu.TextureUsage.TEXTURE_BINDING | wgpu.TextureUsage.COPY_DST)
            self._presenter.set_source(self._texture.create_view())
            self._size = (w, h)
        self._device.queue.write_texture({"texture": self._texture, "mip_level": 0, "origin": (0, 0, 0)},
                                         rgba8, {"offset": 0, "bytes_per_row": w * 4, "rows_per_image": h},
                                         (w, h, 1))
        encoder = self._device.create_command_encoder()
        shown = self._presenter.encode(encoder)
        self._device.queue.submit([encoder.finish()])
        if shown:
            self._presenter.present()

    def close(self) -> None:
        self._presenter.close()
        if self._texture is not None:
            self._texture.destroy()
            self._texture = None
        self._device.destroy()
