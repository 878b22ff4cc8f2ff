"""numba primitives of the protobuf wire format: varints, field skipping, fixed32 floats.

Every reader takes ``(buf, pos, end)`` and never touches ``buf[end:]``. Errors come back as a
negative position ``-STATUS`` so callers can propagate them with a single comparison.
"""

from __future__ import annotations

import numba as nb
import numpy as np

# Status codes shared by the animation kernel and its Python wrapper (codec.py).
OK = 0
TRUNCATED = 1
VARINT_TOO_LONG = 2
LENGTH_PAST_END = 3
WRONG_WIRE_TYPE = 4
UNSUPPORTED_WIRE_TYPE = 5
FIELD_NUMBER_ZERO = 6
TOO_MANY_VALUES = 7
TOO_FEW_VALUES = 8
NOT_FINITE = 9
TOO_MANY_KEYFRAMES = 10
NOT_AN_ANIMATION = 11
NO_ANIMATION_PAYLOAD = 12
ID_TOO_LONG = 13
EXPRESSION_COUNT = 14
BAD_PACKED_LENGTH = 15
OUT_OF_RANGE = 16

WT_VARINT = 0
WT_FIXED64 = 1
WT_LEN = 2
WT_FIXED32 = 5

_U7F = np.uint64(0x7F)


@nb.njit(cache=True, nogil=True, inline="always")
def read_varint(buf, pos, end):
    """Return ``(value, new_pos)``; ``new_pos < 0`` is ``-TRUNCATED`` or ``-VARINT_TOO_LONG``."""
    value = np.uint64(0)
    shift = np.uint64(0)
    for _ in range(10):
        if pos >= end:
            return value, -TRUNCATED
        b = buf[pos]
        pos += 1
        value |= (np.uint64(b) & _U7F) << shift
        if b < 0x80:
            return value, pos
        shift += np.uint64(7)
    return value, -VARINT_TOO_LONG


@nb.njit(cache=True, nogil=True, inline="always")
def read_length(buf, pos, end):
    """Read a length prefix; return ``(start, stop)`` of the payload or ``(-STATUS, 0)``."""
    length, pos = read_varint(buf, pos, end)
    if pos < 0:
        return pos, 0
    if length > np.uint64(end - pos):
        return -LENGTH_PAST_END, 0
    return pos, pos + np.int64(length)


@nb.njit(cache=True, nogil=True)
def skip_field(buf, pos, end, wire_type):
    """Skip the value of an unknown field; groups (3, 4) and wire types 6, 7 are rejected."""
    if wire_type == WT_VARINT:
        _, pos = read_varint(buf, pos, end)
        return pos
    if wire_type == WT_FIXED64:
        return pos + 8 if end - pos >= 8 else -TRUNCATED
    if wire_type == WT_FIXED32:
        return pos + 4 if end - pos >= 4 else -TRUNCATED
    if wire_type == WT_LEN:
        start, stop = read_length(buf, pos, end)
        return start if start < 0 else stop
    return -UNSUPPORTED_WIRE_TYPE


@nb.njit(cache=True, nogil=True, inline="always")
def fixed32_bits(buf, pos):
    """The little-endian uint32 at ``buf[pos:pos+4]`` (caller checked the bounds)."""
    return (np.uint32(buf[pos]) | (np.uint32(buf[pos + 1]) << np.uint32(8))
            | (np.uint32(buf[pos + 2]) << np.uint32(16)) | (np.uint32(buf[pos + 3]) << np.uint32(24)))


@nb.njit(cache=True, nogil=True, inline="always")
def is_finite_bits(bits):
    """A float32 bit pattern whose exponent is not all ones (not NaN, not inf)."""
    return (bits & np.uint32(0x7F800000)) != np.uint32(0x7F800000)
