"""Hand-written protobuf wire bytes for tests: non-packed floats, unknown fields, odd orders."""

import struct

import numpy as np

from engine.wire.flame_fields import FLAME_FIELDS


def varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def key(field: int, wire: int) -> bytes:
    return varint(field << 3 | wire)


def ld(field: int, payload: bytes) -> bytes:
    return key(field, 2) + varint(len(payload)) + payload


def flame(row: np.ndarray, packed: bool = True, unknown: bytes = b"") -> bytes:
    out = bytearray(unknown)
    for number, (_, lo, hi) in enumerate(FLAME_FIELDS, start=1):
        values = row[lo:hi if hi is not None else len(row)].astype("<f4")
        if packed:
            out += ld(number, values.tobytes()) if len(values) else b""
        else:
            for v in values:
                out += key(number, 5) + struct.pack("<f", v)
    return bytes(out)


def envelope(rows, *, packed=True, start_frame=0, end=False, req_id=b"r", conn=b"c", unknown=b"") -> bytes:
    animation = b"".join(ld(1, flame(r, packed, unknown)) for r in rows) + unknown
    if start_frame:
        animation += key(2, 0) + varint(start_frame)
    response = ld(4, animation) + unknown + ld(2, req_id) + ld(1, conn) + (key(3, 0) + b"\x01" if end else b"")
    return unknown + ld(6, response) + key(1, 0) + b"\x05"
