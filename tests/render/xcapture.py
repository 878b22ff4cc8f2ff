"""Read a window's pixels back from the X server (Xvfb) with libX11's XGetImage, through ctypes."""

from __future__ import annotations

import ctypes
import ctypes.util

import numpy as np


class _XImage(ctypes.Structure):
    _fields_ = [("width", ctypes.c_int), ("height", ctypes.c_int), ("xoffset", ctypes.c_int),
                ("format", ctypes.c_int), ("data", ctypes.c_void_p), ("byte_order", ctypes.c_int),
                ("bitmap_unit", ctypes.c_int), ("bitmap_bit_order", ctypes.c_int), ("bitmap_pad", ctypes.c_int),
                ("depth", ctypes.c_int), ("bytes_per_line", ctypes.c_int), ("bits_per_pixel", ctypes.c_int)]


_x11 = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
_x11.XOpenDisplay.restype = ctypes.c_void_p
_x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
_x11.XGetImage.restype = ctypes.POINTER(_XImage)
_x11.XGetImage.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_int, ctypes.c_uint,
                           ctypes.c_uint, ctypes.c_ulong, ctypes.c_int]
_x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
_x11.XDestroyImage = getattr(_x11, "XDestroyImage", None)
_x11.XFree.argtypes = [ctypes.c_void_p]
ZPIXMAP = 2
ALL_PLANES = 0xFFFFFFFF


def capture_window(display: str, window_id: int, width: int, height: int) -> np.ndarray:
    """uint8 (H, W, 3) RGB of an X window (24-bit TrueColor, as Xvfb's default screen)."""
    dpy = _x11.XOpenDisplay(display.encode())
    if not dpy:
        raise RuntimeError(f"cannot open X display {display}")
    try:
        img = _x11.XGetImage(dpy, window_id, 0, 0, width, height, ALL_PLANES, ZPIXMAP)
        if not img:
            raise RuntimeError("XGetImage failed")
        im = img.contents
        assert im.bits_per_pixel == 32, im.bits_per_pixel
        raw = ctypes.string_at(im.data, im.bytes_per_line * im.height)
        px = np.frombuffer(raw, np.uint8).reshape(im.height, im.bytes_per_line // 4, 4)[:, :im.width]
        rgb = px[..., [2, 1, 0]].copy()  # BGRX little-endian
        _x11.XFree(im.data)
        _x11.XFree(ctypes.cast(img, ctypes.c_void_p))
        return rgb
    finally:
        _x11.XCloseDisplay(dpy)
