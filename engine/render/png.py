"""A minimal PNG writer (RGBA8, zlib), and the straight-alpha conversion ``export_bitmap`` applies first."""

from __future__ import annotations

import struct
import zlib

import numpy as np


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def straight_alpha(rgba: np.ndarray, background: tuple[float, float, float]) -> np.ndarray:
    """A new uint8 image with straight alpha from a frame drawn over ``background`` (r, g, b in [0, 1]).

    Frames hold RGB = Σ c·α·T + T·background and A = 1 − T; a PNG wants colour / coverage.
    """
    rgb = rgba[..., :3].astype(np.float32)
    a = rgba[..., 3:4].astype(np.float32) / 255.0
    rgb -= (1.0 - a) * (np.asarray(background, np.float32) * 255.0)
    np.divide(rgb, a, out=rgb, where=a > 0)
    out = np.empty_like(rgba)
    out[..., :3] = np.clip(rgb + 0.5, 0, 255)
    out[..., 3] = rgba[..., 3]
    return out


def encode_png(rgba: np.ndarray, level: int = 6) -> bytes:
    """PNG bytes of a uint8 (H, W, 4) or (H, W, 3) image, top row first."""
    if rgba.dtype != np.uint8 or rgba.ndim != 3 or rgba.shape[2] not in (3, 4):
        raise ValueError(f"encode_png needs uint8 (H, W, 3|4), got {rgba.dtype} {rgba.shape}")
    h, w, c = rgba.shape
    rows = np.empty((h, 1 + w * c), np.uint8)
    rows[:, 0] = 0  # filter type "none" per row
    rows[:, 1:] = rgba.reshape(h, w * c)
    header = struct.pack(">IIBBBBB", w, h, 8, 6 if c == 4 else 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(rows.tobytes(), level)) + _chunk(b"IEND", b""))


def decode_png(data: bytes) -> np.ndarray:
    """Decode a PNG written by :func:`encode_png` (8-bit RGB/RGBA, filter 0 rows); for tests and tools."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        if zlib.crc32(kind + body) & 0xFFFFFFFF != struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0]:
            raise ValueError(f"bad CRC in {kind!r} chunk")
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    w, h, depth, color, *_ = header
    c = 4 if color == 6 else 3
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + w * c)
    if depth != 8 or (rows[:, 0] != 0).any():
        raise ValueError("only 8-bit, unfiltered PNGs are supported")
    return rows[:, 1:].reshape(h, w, c).copy()
