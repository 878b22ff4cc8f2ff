"""The WEBRTC egress data channel: one packet per keyframe, plus round markers (protocol.md "RTC egress").

Packet: ``[flags u8][length u32 LE][payload]``. Flags (protocol.md): 0x01 idle, 0x02 round
start, 0x04 round end, 0x08 payload deflated (zlib); this project adds 0x10 marker (the payload
is an ``RtcMarker`` protobuf, docs/protocol.md). A keyframe payload is
``[frame index u32 LE][audio sample position u64 LE][Flame protobuf]``; sample positions count
48 kHz samples of the decoded audio track from its first sample (the receiver's frame ``pts``).

The receiver rebuilds a ``SERVER_RESPONSE_ANIMATION`` envelope from keyframes (:func:`envelope`),
so everything downstream of a transport sees the same bytes as in the other driving modes.
"""

from __future__ import annotations

import struct
import zlib

import attrs
import numpy as np

from ..errors import AvatarError, ErrorCode
from ..wire import message_pb2 as pb
from ..wire.codec import _len_field, _varint
from ..wire.flame_fields import FLAME_FIELDS

FLAG_IDLE = 0x01
FLAG_ROUND_START = 0x02
FLAG_ROUND_END = 0x04
FLAG_DEFLATED = 0x08
FLAG_MARKER = 0x10
_KNOWN_FLAGS = FLAG_IDLE | FLAG_ROUND_START | FLAG_ROUND_END | FLAG_DEFLATED | FLAG_MARKER

TRACK_RATE = 48_000  # the audio track's clock (Opus)
# libopus's look-ahead at 48 kHz: a sample the sender puts at track position p is decoded at p + 312.
# Positions on the data channel are on the *decoded* stream (the sender adds this), so a receiver
# uses them as they are.
OPUS_DELAY = 312
SAMPLES_PER_KEYFRAME = TRACK_RATE // 25
MAX_PACKET = 64 * 1024  # one keyframe with 100 expressions is ~0.5 kB; markers are smaller still
LABEL = "facecast-motion"
CHANNEL_ID = 0  # negotiated out of band: both peers create it before the offer/answer

_HEAD = struct.Struct("<BI")
_KEYFRAME = struct.Struct("<IQ")

Kind = pb.RtcMarkerKind
ROUND_START = pb.RTC_MARKER_KIND_ROUND_START
ROUND_END = pb.RTC_MARKER_KIND_ROUND_END
INTERRUPT = pb.RTC_MARKER_KIND_INTERRUPT
GAP = pb.RTC_MARKER_KIND_GAP


def _field(number: int, payload: bytes) -> bytes:
    return _len_field(number << 3 | 2, payload)  # every field number here is < 16: a one-byte tag


def flame_bytes(keyframe: np.ndarray) -> bytes:
    """One ``Flame`` message (packed float32 fields, empty ones omitted) for a keyframe in the motion layout."""
    row = np.ascontiguousarray(keyframe, dtype="<f4")
    out = bytearray()
    for number, (_, lo, hi) in enumerate(FLAME_FIELDS, start=1):
        values = row[lo:hi if hi is not None else row.size]
        if values.size:
            out += _field(number, values.tobytes())
    return bytes(out)


def keyframe_packet(frame_index: int, sample_position: int, flame: bytes, *, start: bool = False,
                    end: bool = False, deflate: bool = False) -> bytes:
    flags = (FLAG_ROUND_START if start else 0) | (FLAG_ROUND_END if end else 0)
    payload = _KEYFRAME.pack(frame_index, sample_position) + flame
    if deflate:
        payload = zlib.compress(payload, 6)
        flags |= FLAG_DEFLATED
    return _HEAD.pack(flags, len(payload)) + payload


def marker_packet(kind: int, *, req_id: str, sample_position: int, connection_id: str = "", frame_count: int = 0,
                  gap_samples: int = 0, error_code: int = 0, error_message: str = "") -> bytes:
    marker = pb.RtcMarker(kind=kind, connection_id=connection_id, req_id=req_id, sample_position=sample_position,
                          frame_count=frame_count, gap_samples=gap_samples, error_code=error_code,
                          error_message=error_message)
    flags = FLAG_MARKER | (FLAG_ROUND_START if kind == ROUND_START else 0) | \
        (FLAG_ROUND_END if kind in (ROUND_END, INTERRUPT) else 0)
    payload = marker.SerializeToString()
    return _HEAD.pack(flags, len(payload)) + payload


@attrs.frozen
class Keyframe:
    frame_index: int
    sample_position: int
    flame: bytes
    start: bool
    end: bool


def parse_packet(data: bytes) -> "Keyframe | pb.RtcMarker | None":
    """A keyframe, a marker, or None for an idle keyframe (the client plays its own idle loop).

    Raises ``AvatarError(serverError)`` naming what is wrong with a malformed packet.
    """
    data = bytes(data)
    if len(data) < _HEAD.size or len(data) > MAX_PACKET:
        raise AvatarError(ErrorCode.serverError, f"RTC motion packet of {len(data)} bytes is outside "
                          f"{_HEAD.size}..{MAX_PACKET} bytes")
    flags, length = _HEAD.unpack_from(data)
    if flags & ~_KNOWN_FLAGS:
        raise AvatarError(ErrorCode.serverError, f"RTC motion packet has unknown flags 0x{flags:02x}")
    if length != len(data) - _HEAD.size:
        raise AvatarError(ErrorCode.serverError, f"RTC motion packet says {length} payload bytes but carries "
                          f"{len(data) - _HEAD.size}")
    payload = data[_HEAD.size:]
    if flags & FLAG_DEFLATED:
        try:
            payload = zlib.decompressobj().decompress(payload, MAX_PACKET)
        except zlib.error as exc:
            raise AvatarError(ErrorCode.serverError, f"RTC motion packet does not inflate: {exc}") from None
    if flags & FLAG_MARKER:
        marker = pb.RtcMarker()
        try:
            marker.ParseFromString(payload)
        except Exception as exc:
            raise AvatarError(ErrorCode.serverError, f"RTC marker does not parse: {exc}") from None
        if marker.kind not in (ROUND_START, ROUND_END, INTERRUPT, GAP) or not marker.req_id:
            raise AvatarError(ErrorCode.serverError, f"RTC marker of kind {marker.kind} for round "
                              f"{marker.req_id!r} is not one this client knows")
        return marker
    if flags & FLAG_IDLE:
        return None
    if len(payload) < _KEYFRAME.size:
        raise AvatarError(ErrorCode.serverError, "RTC keyframe packet is shorter than its 12-byte header")
    index, position = _KEYFRAME.unpack_from(payload)
    return Keyframe(index, position, payload[_KEYFRAME.size:], bool(flags & FLAG_ROUND_START),
                    bool(flags & FLAG_ROUND_END))


def envelope(connection_id: str, req_id: str, start_frame: int, flames: list[bytes], end: bool) -> bytes:
    """The ``SERVER_RESPONSE_ANIMATION`` envelope carrying ``flames`` from ``start_frame`` on."""
    animation = b"".join(_field(1, f) for f in flames) + (_varint(2 << 3) + _varint(start_frame) if start_frame else b"")
    body = (_field(1, connection_id.encode()) if connection_id else b"") + _field(2, req_id.encode()) + \
        (b"\x18\x01" if end else b"") + _field(4, animation)
    return _varint(1 << 3) + _varint(pb.MESSAGE_TYPE_SERVER_RESPONSE_ANIMATION) + _field(6, body)
