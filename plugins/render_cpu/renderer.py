"""The ``cpu`` renderer: draws a ``PreparedFrame`` with the numba tile rasterizer."""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from engine import AvatarError, ErrorCode

from . import raster


class CpuRenderer:
    """numba renderer; buffers grow with the largest frame seen and are reused after.

    Offscreen by default; given a glfw window it shows each frame there through wgpu.
    """

    name = "cpu"
    glfw_hints = {"CLIENT_API": "NO_API"}  # the window gets a wgpu surface for the finished image

    def __init__(self) -> None:
        self._image: np.ndarray | None = None
        self._rgba8: np.ndarray | None = None
        self._capacity = 0
        self._packed = np.empty((0, raster.PACK), np.float32)
        self._bbox = np.empty((0, 4), np.int32)
        self._lists = np.empty(0, np.int32)
        self._background = np.zeros(3, np.float32)
        self._closed = False
        self._window_output = None
        self._float_wanted = False  # read_float was called: from then on draw writes floats too
        self._seen_opacity = np.zeros(0, np.float32)  # the opacities self._cuts are of (raster.refresh_cuts)
        self._cuts = np.zeros(0, np.float32)

    def open(self, width: int, height: int, window: Any = None) -> None:
        self._closed = False
        self.resize(width, height)
        if window is not None:
            from .window import WindowOutput

            self._window_output = WindowOutput(window)

    def resize(self, width: int, height: int) -> None:
        if width <= 0 or height <= 0:
            raise AvatarError(ErrorCode.playbackInitFailed, f"render target must be at least 1×1, not {width}×{height}")
        self._width, self._height = int(width), int(height)
        self._tiles_x = -(-self._width // raster.TILE)
        tiles_y = -(-self._height // raster.TILE)
        self._image = np.zeros((self._height, self._width, 4), np.float32)
        self._float_pending = False  # set by draw: read_float composites the frame again, with floats
        self._rgba8 = np.zeros((self._height, self._width, 4), np.uint8)
        self._rgba8_flat = self._rgba8.reshape(-1)  # the view the raster writes through
        self._starts = np.zeros(self._tiles_x * tiles_y + 1, np.int64)
        self._chunk_counts = np.zeros((raster.CHUNKS, self._tiles_x * tiles_y), np.int64)
        self._chunk_offsets = np.zeros((raster.CHUNKS, self._tiles_x * tiles_y), np.int64)
        self._live = np.zeros((self._tiles_x * tiles_y, 2, raster.TILE), np.int32)
        workers = numba.get_num_threads()  # each composites the tiles it takes in a scratch of its own
        self._scratch = np.zeros((workers, raster.TILE * raster.LINE), np.float32)
        self._tile_order = raster.interleaved_tiles(self._tiles_x * tiles_y, workers)
        self._next_tile = np.zeros(1, np.int64)

    def _reserve(self, count: int) -> None:
        if count > self._capacity:
            self._capacity = max(count, int(self._capacity * 1.5))
            self._packed = np.empty((self._capacity, raster.PACK), np.float32)
            self._bbox = np.empty((self._capacity, 4), np.int32)

    def draw(self, frame: Any, background: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> None:
        if self._image is None:
            raise AvatarError(ErrorCode.animationPlayerNotInitialized, "call open(width, height) before draw()")
        if (frame.width, frame.height) != (self._width, self._height):
            self.resize(frame.width, frame.height)
        self._background[:] = background
        count = int(frame.count)
        self._reserve(count)
        opacities = frame.opacities
        if opacities.shape != self._seen_opacity.shape:
            self._seen_opacity = np.full(opacities.shape, np.nan, np.float32)
            self._cuts = np.zeros(opacities.shape, np.float32)
        raster.refresh_cuts(opacities, self._seen_opacity, self._cuts)
        raster.pack_and_bound(count, frame.order, frame.means2d, frame.conics, frame.radii, opacities, self._cuts,
                              frame.colors, self._width, self._height, self._packed, self._bbox)
        total = int(raster.count_tiles(count, self._bbox, self._tiles_x, self._chunk_counts, self._chunk_offsets,
                                       self._starts))
        if total > self._lists.shape[0]:
            self._lists = np.empty(max(total, int(self._lists.shape[0] * 1.5)), np.int32)
        raster.fill_tiles(count, self._bbox, self._tiles_x, self._chunk_offsets, self._lists)
        self._composite(with_float=self._float_wanted)
        self._float_pending = not self._float_wanted
        if self._window_output is not None:
            self._window_output.show(self.read_rgba())

    def _composite(self, with_float: bool) -> None:
        raster.rasterize_tiles(self._packed, self._bbox, self._starts, self._lists, self._tiles_x, self._background,
                               self._image, self._rgba8_flat, with_float, self._live, self._tile_order, self._next_tile,
                               self._scratch, raster.LANE_CONSTANTS)

    def read_float(self) -> np.ndarray:
        """The last frame as float32 (H, W, 4); a view of the renderer's buffer, valid until the next draw.

        ``draw`` writes only the uint8 image, which is what apps and video take, until ``read_float`` is
        called: that one composites the frame again from the renderer's own tile lists, writing floats
        too, and from then on ``draw`` writes both.
        """
        self._float_wanted = True
        if self._float_pending:
            self._composite(with_float=True)
            self._float_pending = False
        return self._image

    def read_rgba(self) -> np.ndarray:
        """The last frame as uint8 (H, W, 4); a view of the renderer's buffer, valid until the next draw."""
        return self._rgba8

    def close(self) -> None:
        if self._window_output is not None:
            self._window_output.close()
            self._window_output = None
        self._image = self._rgba8 = self._rgba8_flat = None
        self._packed = np.empty((0, raster.PACK), np.float32)
        self._lists = np.empty(0, np.int32)
        self._scratch = self._live = None
        self._capacity = 0
        self._closed = True
