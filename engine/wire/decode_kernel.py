"""numba parser of one ``SERVER_RESPONSE_ANIMATION`` envelope straight into a keyframe array.

Message → ServerResponseAnimation → FlameAnimation → Flame, as in message.proto. Keyframe floats
are copied as raw bits into ``out_bits`` (a uint32 view of the caller's float32 (K, D) array), so no
bit casting is needed. Results and errors go to ``meta`` (int64, ``META_SIZE``), indexed by the
``M_*`` constants; the kernel never raises and never reads outside ``buf``.
Repeated fields merge as protobuf does: scalars and strings last-wins, keyframes append.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..motion.layout import MOTION_LIMIT
from .flame_fields import FIELD_COUNT, FIELD_OFFSET
from .protowire import (
    EXPRESSION_COUNT, FIELD_NUMBER_ZERO, ID_TOO_LONG, NO_ANIMATION_PAYLOAD, NOT_AN_ANIMATION, NOT_FINITE,
    OUT_OF_RANGE, BAD_PACKED_LENGTH, TOO_FEW_VALUES, TOO_MANY_KEYFRAMES, TOO_MANY_VALUES, TRUNCATED, WRONG_WIRE_TYPE,
    WT_FIXED32, WT_LEN, WT_VARINT, fixed32_bits, is_finite_bits, read_length, read_varint, skip_field,
)

M_STATUS, M_ERROR_POS, M_DETAIL, M_FOUND, M_LEVEL = 0, 1, 2, 3, 12
M_COUNT, M_START_FRAME, M_END, M_TYPE = 4, 5, 6, 7
M_CONN_OFF, M_CONN_LEN, M_REQ_OFF, M_REQ_LEN = 8, 9, 10, 11
M_VALUES = 16  # M_VALUES + field number: values seen so far in the current Flame
META_SIZE = 24
MAX_ID_BYTES = 256  # connection_id / req_id are short tokens; bound them
ANIMATION_TYPE = 5  # MESSAGE_TYPE_SERVER_RESPONSE_ANIMATION
ANIMATION_FIELD = 6  # Message.server_response_animation
LEVEL_FLAME, LEVEL_ANIMATION, LEVEL_RESPONSE, LEVEL_MESSAGE = 1, 2, 3, 4
# |x| <= MOTION_LIMIT as one integer compare of the float's magnitude bits (NaN and inf lie above it).
_LIMIT_BITS = np.uint32(np.array(MOTION_LIMIT, np.float32).view(np.uint32))
_MAGNITUDE = np.uint32(0x7FFFFFFF)
_U32 = np.uint64(0xFFFFFFFF)


@nb.njit(cache=True, nogil=True)
def _fail(meta, status, pos, level, field):
    """Record where parsing failed (byte, message level ``LEVEL_*``, field number); return ``-status``."""
    meta[M_ERROR_POS] = pos
    meta[M_LEVEL] = level
    meta[M_DETAIL] = field
    return -status


@nb.njit(cache=True, nogil=True, inline="always")  # on the per-field path of every level
def _read_tag(buf, pos, end, meta, level):
    """One field key at ``pos``: (field number, wire type, next pos), or (0, 0, -status) once recorded."""
    key, next_pos = read_varint(buf, pos, end)
    if next_pos < 0:
        return np.int64(0), np.int64(0), _fail(meta, -next_pos, pos, level, 0)
    field = np.int64(key >> np.uint64(3))
    if field == 0:
        return np.int64(0), np.int64(0), _fail(meta, FIELD_NUMBER_ZERO, pos, level, 0)
    return field, np.int64(key & np.uint64(7)), next_pos


@nb.njit(cache=True, nogil=True)
def _parse_flame(buf, pos, end, row, expr_count, meta):
    for f in range(1, 8):
        meta[M_VALUES + f] = 0
    while pos < end:
        key_pos = pos
        field, wire, pos = _read_tag(buf, pos, end, meta, LEVEL_FLAME)
        if pos < 0:
            return pos
        if field > 7:
            pos = skip_field(buf, pos, end, wire)
            if pos < 0:
                return _fail(meta, -pos, key_pos, LEVEL_FLAME, field)
            continue
        limit = expr_count if field == 7 else FIELD_COUNT[field]
        first = FIELD_OFFSET[field] + meta[M_VALUES + field]
        if wire == WT_LEN:  # packed
            start, stop = read_length(buf, pos, end)
            if start < 0:
                return _fail(meta, -start, key_pos, LEVEL_FLAME, field)
            if (stop - start) % 4 != 0:
                return _fail(meta, BAD_PACKED_LENGTH, key_pos, LEVEL_FLAME, field)
        elif wire == WT_FIXED32:  # one non-packed value
            start, stop = pos, pos + 4
            if end - pos < 4:
                return _fail(meta, TRUNCATED, key_pos, LEVEL_FLAME, field)
        else:
            return _fail(meta, WRONG_WIRE_TYPE, key_pos, LEVEL_FLAME, field)
        n = (stop - start) // 4
        if meta[M_VALUES + field] + n > limit:
            meta[M_FOUND] = meta[M_VALUES + field] + n
            return _fail(meta, EXPRESSION_COUNT if field == 7 else TOO_MANY_VALUES, key_pos, LEVEL_FLAME, field)
        for i in range(n):
            bits = fixed32_bits(buf, start + 4 * i)
            if bits & _MAGNITUDE > _LIMIT_BITS:
                status = OUT_OF_RANGE if is_finite_bits(bits) else NOT_FINITE
                return _fail(meta, status, start + 4 * i, LEVEL_FLAME, field)
            row[first + i] = bits
        meta[M_VALUES + field] += n
        pos = stop
    for f in range(1, 8):
        limit = expr_count if f == 7 else FIELD_COUNT[f]
        if meta[M_VALUES + f] != limit:
            meta[M_FOUND] = meta[M_VALUES + f]
            return _fail(meta, EXPRESSION_COUNT if f == 7 else TOO_FEW_VALUES, end, LEVEL_FLAME, f)
    return end


@nb.njit(cache=True, nogil=True)
def _parse_flame_animation(buf, pos, end, out_bits, expr_count, meta):
    while pos < end:
        key_pos = pos
        field, wire, pos = _read_tag(buf, pos, end, meta, LEVEL_ANIMATION)
        if pos < 0:
            return pos
        if field == 1:  # keyframes
            if wire != WT_LEN:
                return _fail(meta, WRONG_WIRE_TYPE, key_pos, LEVEL_ANIMATION, field)
            start, stop = read_length(buf, pos, end)
            if start < 0:
                return _fail(meta, -start, key_pos, LEVEL_ANIMATION, field)
            k = meta[M_COUNT]
            if k >= out_bits.shape[0]:
                return _fail(meta, TOO_MANY_KEYFRAMES, key_pos, LEVEL_ANIMATION, out_bits.shape[0])
            r = _parse_flame(buf, start, stop, out_bits[k], expr_count, meta)
            if r < 0:
                meta[M_COUNT] = k  # index of the keyframe that failed, for the error message
                return r
            meta[M_COUNT] = k + 1
            pos = stop
        elif field == 2:  # start_frame (uint32: protobuf keeps the low 32 bits)
            if wire != WT_VARINT:
                return _fail(meta, WRONG_WIRE_TYPE, key_pos, LEVEL_ANIMATION, field)
            value, pos = read_varint(buf, pos, end)
            if pos < 0:
                return _fail(meta, -pos, key_pos, LEVEL_ANIMATION, field)
            meta[M_START_FRAME] = np.int64(value & _U32)
        else:
            pos = skip_field(buf, pos, end, wire)
            if pos < 0:
                return _fail(meta, -pos, key_pos, LEVEL_ANIMATION, field)
    return end


@nb.njit(cache=True, nogil=True)
def _parse_response(buf, pos, end, out_bits, expr_count, meta):
    while pos < end:
        key_pos = pos
        field, wire, pos = _read_tag(buf, pos, end, meta, LEVEL_RESPONSE)
        if pos < 0:
            return pos
        if field == 1 or field == 2 or field == 4:
            if wire != WT_LEN:
                return _fail(meta, WRONG_WIRE_TYPE, key_pos, LEVEL_RESPONSE, field)
            start, stop = read_length(buf, pos, end)
            if start < 0:
                return _fail(meta, -start, key_pos, LEVEL_RESPONSE, field)
            if field == 4:
                r = _parse_flame_animation(buf, start, stop, out_bits, expr_count, meta)
                if r < 0:
                    return r
            elif stop - start > MAX_ID_BYTES:
                return _fail(meta, ID_TOO_LONG, key_pos, LEVEL_RESPONSE, field)
            elif field == 1:
                meta[M_CONN_OFF], meta[M_CONN_LEN] = start, stop - start
            else:
                meta[M_REQ_OFF], meta[M_REQ_LEN] = start, stop - start
            pos = stop
        elif field == 3:  # end
            if wire != WT_VARINT:
                return _fail(meta, WRONG_WIRE_TYPE, key_pos, LEVEL_RESPONSE, field)
            value, pos = read_varint(buf, pos, end)
            if pos < 0:
                return _fail(meta, -pos, key_pos, LEVEL_RESPONSE, field)
            meta[M_END] = 1 if value != np.uint64(0) else 0
        else:
            pos = skip_field(buf, pos, end, wire)
            if pos < 0:
                return _fail(meta, -pos, key_pos, LEVEL_RESPONSE, field)
    return end


@nb.njit(cache=True, nogil=True)
def decode_animation_kernel(buf, out_bits, expr_count, meta):
    """Parse the envelope in ``buf`` (uint8) into ``out_bits`` rows; the status lands in ``meta[M_STATUS]``."""
    meta[:] = 0
    pos, end = 0, buf.shape[0]
    msg_type = 0
    oneof = 0  # the data member seen last: a later different member clears the animation, as in protobuf
    while pos < end:
        key_pos = pos
        field, wire, pos = _read_tag(buf, pos, end, meta, LEVEL_MESSAGE)
        if pos < 0:
            meta[M_STATUS] = -pos
            return
        status = 0
        if field == 1:
            if wire != WT_VARINT:
                status = _fail(meta, WRONG_WIRE_TYPE, key_pos, LEVEL_MESSAGE, field)
            else:
                value, pos = read_varint(buf, pos, end)
                status = _fail(meta, -pos, key_pos, LEVEL_MESSAGE, field) if pos < 0 else 0
                msg_type = np.int64(value & _U32)
        elif 2 <= field <= 8 and field != 7:  # members of the `data` oneof are messages
            if wire != WT_LEN:
                status = _fail(meta, WRONG_WIRE_TYPE, key_pos, LEVEL_MESSAGE, field)
            else:
                start, stop = read_length(buf, pos, end)
                if start < 0:
                    status = _fail(meta, -start, key_pos, LEVEL_MESSAGE, field)
                elif field == ANIMATION_FIELD:
                    if oneof != ANIMATION_FIELD:
                        for m in range(M_COUNT, META_SIZE):
                            meta[m] = 0
                    status = _parse_response(buf, start, stop, out_bits, expr_count, meta)
                    pos = stop
                else:
                    pos = stop
                oneof = field
        else:
            pos = skip_field(buf, pos, end, wire)
            status = _fail(meta, -pos, key_pos, LEVEL_MESSAGE, field) if pos < 0 else 0
        if status < 0:
            meta[M_STATUS] = -status
            return
    meta[M_TYPE] = msg_type
    if msg_type != ANIMATION_TYPE:
        meta[M_STATUS] = -_fail(meta, NOT_AN_ANIMATION, 0, LEVEL_MESSAGE, msg_type)
    elif oneof != ANIMATION_FIELD:
        meta[M_STATUS] = -_fail(meta, NO_ANIMATION_PAYLOAD, 0, LEVEL_MESSAGE, oneof)
