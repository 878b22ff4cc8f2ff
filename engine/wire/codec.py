"""The animation codec: ``SERVER_RESPONSE_ANIMATION`` envelopes ↔ float32 keyframes (engine motion layout).

``encode_animation`` writes exactly the bytes protobuf would serialize for the same message (fields in
number order, packed floats, proto3 defaults omitted, ``animation`` always present); the server uses it.
``AnimationDecoder`` parses envelopes with the numba kernel into a preallocated array and turns the
kernel's status codes into :class:`AvatarError`.
"""

from __future__ import annotations

import functools
import math

import attrs
import numpy as np

from ..errors import AvatarError, ErrorCode
from ..motion.layout import EXPRESSION_OFFSET, MAX_EXPRESSIONS, MOTION_LIMIT, motion_dim
from . import decode_kernel as dk
from . import protowire as pw
from .encode_kernel import encode_rows
from .flame_fields import FLAME_FIELDS


@attrs.frozen(eq=False)
class DecodedAnimation:
    """One decoded message. ``keyframes`` (float32 (K, D)) is a view into the decoder's buffer,
    valid until its next ``decode``; copy it to keep it."""

    req_id: str
    connection_id: str
    start_frame: int
    end: bool
    keyframes: np.ndarray


def _varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _len_field(tag: int, payload: bytes) -> bytes:
    return bytes((tag,)) + _varint(len(payload)) + payload


@functools.lru_cache(maxsize=8)
def _flame_row_layout(expr_count: int) -> tuple[np.ndarray, tuple[tuple[int, int, int], ...]]:
    """Byte template of one ``keyframes`` entry (tag, length, Flame body) and where each field's floats go."""
    body, spans = bytearray(), []
    for number, (_, lo, hi) in enumerate(FLAME_FIELDS, start=1):
        n = (hi if hi is not None else EXPRESSION_OFFSET + expr_count) - lo
        if n == 0:
            continue  # protobuf omits empty repeated fields
        body += bytes((number << 3 | pw.WT_LEN,)) + _varint(4 * n)
        spans.append((len(body), lo, n))
        body += bytes(4 * n)
    head = bytes((1 << 3 | pw.WT_LEN,)) + _varint(len(body))
    template = np.frombuffer(head + bytes(body), dtype=np.uint8)
    return template, tuple((len(head) + at, lo, n) for at, lo, n in spans)


@functools.lru_cache(maxsize=8)
def _float_bytes(expr_count: int) -> np.ndarray:
    """Where each byte of a keyframe row (fields in layout order) goes in the row template: one scatter."""
    _, spans = _flame_row_layout(expr_count)
    assert [lo for _, lo, _ in spans] == sorted(lo for _, lo, _ in spans)  # layout order is field order
    return np.concatenate([np.arange(at, at + 4 * n) for at, _, n in spans])


def _check_id(name: str, value: str) -> bytes:
    if not isinstance(value, str):
        raise AvatarError(ErrorCode.serverError, f"{name} must be a str, not {type(value).__name__}")
    raw = value.encode("utf-8")
    if len(raw) > dk.MAX_ID_BYTES:
        raise AvatarError(ErrorCode.serverError,
                          f"{name} is {len(raw)} bytes of UTF-8; the protocol allows at most {dk.MAX_ID_BYTES}")
    return raw


def _keyframes_array(keyframes) -> np.ndarray:
    kf = np.asarray(keyframes)
    if kf.ndim != 2 or not EXPRESSION_OFFSET <= kf.shape[1] <= EXPRESSION_OFFSET + MAX_EXPRESSIONS:
        raise AvatarError(ErrorCode.serverError,
                          f"keyframes must be a (K, 20 + E) array with E <= {MAX_EXPRESSIONS}, not shape {kf.shape}")
    return np.ascontiguousarray(kf, dtype="<f4")


def _check_largest(largest: float) -> None:
    """The largest magnitude is NaN when any value is, infinite when any is."""
    if not largest <= MOTION_LIMIT:
        if not math.isfinite(largest):
            raise AvatarError(ErrorCode.serverError, "keyframes contain NaN or infinity; send finite pose values")
        raise AvatarError(ErrorCode.serverError, f"keyframe values must lie within ±{MOTION_LIMIT:g} "
                                                 "(metres, radians, blendshape weights)")


@functools.lru_cache(maxsize=256)
def _id_fields(connection_id: str, req_id: str) -> bytes:
    """``ServerResponseAnimation`` fields 1 and 2, checked and encoded once per (connection, round)."""
    conn, req = _check_id("connection_id", connection_id), _check_id("req_id", req_id)
    return (_len_field(0x0A, conn) if conn else b"") + (_len_field(0x12, req) if req else b"")


def encode_animation(connection_id: str, req_id: str, keyframes, start_frame: int, end: bool) -> bytes:
    """Serialize a full ``Message`` envelope of type ``SERVER_RESPONSE_ANIMATION``."""
    if type(connection_id) is str and type(req_id) is str:
        ids = _id_fields(connection_id, req_id)
    else:  # not hashable, or a str subclass: check without the cache (this raises the clear error)
        ids = _id_fields.__wrapped__(connection_id, req_id)
    kf = _keyframes_array(keyframes)
    if not 0 <= int(start_frame) < 2**32:
        raise AvatarError(ErrorCode.serverError, f"start_frame must fit in uint32, not {start_frame!r}")
    expressions = kf.shape[1] - EXPRESSION_OFFSET
    template, _ = _flame_row_layout(expressions)
    rows = np.empty(kf.shape[0] * template.size, dtype=np.uint8)
    # one numba pass: rows from the template, floats scattered in, largest magnitude for the range check
    _check_largest(encode_rows(kf, kf.view(np.uint8), template, _float_bytes(expressions), rows))
    tail = b"\x10" + _varint(int(start_frame)) if start_frame else b""
    animation = rows.size + len(tail)
    head = ids + (b"\x18\x01\x22" if end else b"\x22") + _varint(animation)
    # the envelope in one join: the rows' bytes are copied once
    return b"".join((b"\x08\x05\x32", _varint(len(head) + animation), head, rows.tobytes(), tail))


_MESSAGES = {
    pw.TRUNCATED: "the message is truncated",
    pw.VARINT_TOO_LONG: "a varint is longer than 10 bytes",
    pw.LENGTH_PAST_END: "a length prefix points past the end of its message (truncated payload?)",
    pw.WRONG_WIRE_TYPE: "a known field has the wrong wire type",
    pw.UNSUPPORTED_WIRE_TYPE: "a field uses a group or an invalid wire type",
    pw.FIELD_NUMBER_ZERO: "a field has number 0",
    pw.TOO_MANY_VALUES: "a pose field has more values than the layout allows",
    pw.TOO_FEW_VALUES: "a pose field has fewer values than the layout needs",
    pw.NOT_FINITE: "a pose value is NaN or infinite",
    pw.OUT_OF_RANGE: f"a pose value lies beyond ±{MOTION_LIMIT:g} (metres, radians, blendshape weights)",
    pw.BAD_PACKED_LENGTH: "a packed float field's length is not a multiple of 4",
    pw.ID_TOO_LONG: f"an id string is longer than {dk.MAX_ID_BYTES} bytes",
    pw.NO_ANIMATION_PAYLOAD: "the envelope carries no server_response_animation",
}


class AnimationDecoder:
    """Decodes animation envelopes for an avatar with ``expression_count`` expressions into one reused buffer."""

    def __init__(self, expression_count: int, max_keyframes: int = 256) -> None:
        try:
            dim = motion_dim(expression_count)
        except ValueError as exc:
            raise AvatarError(ErrorCode.invalidAvatarMetadata, str(exc)) from None
        if not 1 <= max_keyframes <= 65536:
            raise AvatarError(ErrorCode.animationPlayerNotInitialized,
                              f"max_keyframes must be 1..65536, not {max_keyframes!r}")
        self.expression_count = expression_count
        self.max_keyframes = max_keyframes
        self._keyframes = np.zeros((max_keyframes, dim), dtype=np.float32)
        self._bits = self._keyframes.view(np.uint32)
        self._meta = np.zeros(dk.META_SIZE, dtype=np.int64)

    def decode(self, data: bytes | bytearray | memoryview) -> DecodedAnimation:
        """Parse one envelope; raise ``AvatarError`` saying what is malformed."""
        return self._decode_at(data, 0)

    def decode_batch(self, payloads) -> list[DecodedAnimation]:
        """Decode several envelopes (e.g. one ``yield_frames_data`` call) into consecutive rows of the buffer.

        All of them must fit in ``max_keyframes`` rows together; the results stay valid until the next call.
        """
        results, row = [], 0
        for data in payloads:
            res = self._decode_at(data, row)
            row += len(res.keyframes)
            results.append(res)
        return results

    def _decode_at(self, data, row: int) -> DecodedAnimation:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise AvatarError(ErrorCode.serverError,
                              f"an animation payload must be the received bytes, not {type(data).__name__}")
        buf = np.frombuffer(data, dtype=np.uint8)
        meta = self._meta
        dk.decode_animation_kernel(buf, self._bits[row:], self.expression_count, meta)
        if meta[dk.M_STATUS] != pw.OK:
            raise self._error(len(buf), row)
        return DecodedAnimation(
            req_id=self._string(buf, dk.M_REQ_OFF, dk.M_REQ_LEN, "req_id"),
            connection_id=self._string(buf, dk.M_CONN_OFF, dk.M_CONN_LEN, "connection_id"),
            start_frame=int(meta[dk.M_START_FRAME]), end=bool(meta[dk.M_END]),
            keyframes=self._keyframes[row: row + meta[dk.M_COUNT]],
        )

    def _string(self, buf: np.ndarray, off: int, length: int, name: str) -> str:
        lo, n = int(self._meta[off]), int(self._meta[length])
        try:
            return buf[lo:lo + n].tobytes().decode("utf-8")
        except UnicodeDecodeError:
            raise AvatarError(ErrorCode.serverError,
                              f"animation message has a {name} that is not valid UTF-8") from None

    def _error(self, size: int, row: int) -> AvatarError:
        meta = self._meta
        status, pos, detail = int(meta[dk.M_STATUS]), int(meta[dk.M_ERROR_POS]), int(meta[dk.M_DETAIL])
        if status == pw.EXPRESSION_COUNT:
            found = int(meta[dk.M_FOUND])
            at_least = "at least " if found > self.expression_count else ""  # the kernel stops at the first excess
            return AvatarError(ErrorCode.invalidAvatarMetadata,
                               f"keyframe {int(meta[dk.M_COUNT])} carries {at_least}{found} expression values but "
                               f"the avatar has {self.expression_count}; the Motion Server must generate motion for this avatar's expression count")
        if status == pw.NOT_AN_ANIMATION:
            return AvatarError(ErrorCode.serverError,
                               f"expected a SERVER_RESPONSE_ANIMATION message (type 5), got type {detail}")
        if status == pw.TOO_MANY_KEYFRAMES:
            if row:
                return AvatarError(ErrorCode.serverError,
                                   f"a batch of animation messages holds more than max_keyframes={self.max_keyframes} "
                                   f"keyframes ({row} rows used before this message); decode it in smaller batches")
            return AvatarError(ErrorCode.serverError,
                               f"animation message has more than {detail} keyframes; split it into smaller messages "
                               "or raise max_keyframes")
        what = _MESSAGES.get(status, f"decoder status {status}")
        return AvatarError(ErrorCode.serverError,
                           f"malformed animation message: {what} at byte {pos} of {size} ({self._where()}); "
                           "pass the SERVER_RESPONSE_ANIMATION envelope exactly as received")

    def _where(self) -> str:
        level, field = int(self._meta[dk.M_LEVEL]), int(self._meta[dk.M_DETAIL])
        if level == dk.LEVEL_FLAME:
            name = FLAME_FIELDS[field - 1][0] if 1 <= field <= 7 else f"field {field}"
            return f"keyframe {int(self._meta[dk.M_COUNT])}, Flame.{name}"
        names = {dk.LEVEL_ANIMATION: "FlameAnimation", dk.LEVEL_RESPONSE: "ServerResponseAnimation"}
        message = names.get(level, "Message")
        return f"{message} field {field}" if field else message


def decode_animation(data: bytes, expression_count: int, max_keyframes: int = 256) -> DecodedAnimation:
    """One-shot decode whose keyframes the caller owns (convenient; a reused decoder is faster)."""
    return AnimationDecoder(expression_count, max_keyframes).decode(data)
