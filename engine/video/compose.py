"""The avatar's straight-alpha RGBA over an opaque background, into one reused buffer."""

from __future__ import annotations

import numpy as np


class Compositor:
    """``compose(rgba) -> bytes``: RGB = rgb·a + background·(1 − a), alpha 255 (video has no alpha).

    Integer arithmetic in preallocated buffers, so a frame costs no allocation beyond the
    ``bytes`` that ``rtc.VideoFrame`` needs to own.
    """

    def __init__(self, height: int, width: int, background: tuple[int, int, int]) -> None:
        bg = np.asarray(background, dtype=np.uint16)
        if bg.shape != (3,) or (bg > 255).any():
            raise ValueError(f"background must be three integers 0..255, not {background!r}")
        self._bg = bg
        self._acc = np.empty((height, width, 3), np.uint16)
        self._inv = np.empty((height, width, 1), np.uint16)
        self._tmp = np.empty((height, width, 3), np.uint16)
        self._out = np.full((height, width, 4), 255, np.uint8)

    def __call__(self, rgba: np.ndarray) -> bytes:
        return self.rgba(rgba).tobytes()

    def rgba(self, rgba: np.ndarray) -> np.ndarray:
        """The composited picture, opaque, as the reused (H, W, 4) buffer (valid until the next call)."""
        alpha = rgba[..., 3:4]
        np.multiply(rgba[..., :3], alpha, out=self._acc, dtype=np.uint16)
        np.subtract(255, alpha, out=self._inv, dtype=np.uint16)
        np.multiply(self._inv, self._bg, out=self._tmp)
        self._acc += self._tmp
        self._acc += 127
        self._acc //= 255
        self._out[..., :3] = self._acc
        return self._out
