"""Build and parse every Motion Server message with the protobuf module (protocol.md).

The hot path (animation payloads) has its own numba codec in :mod:`engine.wire.codec`;
everything else is rare enough that the protobuf library is the right tool.
Every builder returns the serialized ``Message`` envelope as ``bytes``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from google.protobuf.message import DecodeError

from ..config import SAMPLE_RATES
from ..errors import AvatarError, ErrorCode
from . import message_pb2 as pb
from .codes import ServerErrorCode
from .flame_fields import FLAME_FIELDS

MessageType = pb.MessageType

# Which oneof member each message type must carry.
_PAYLOAD_OF_TYPE = {
    pb.MESSAGE_TYPE_CLIENT_CONFIGURE_SESSION: "client_configure_session",
    pb.MESSAGE_TYPE_SERVER_CONFIRM_SESSION: "server_confirm_session",
    pb.MESSAGE_TYPE_CLIENT_AUDIO_INPUT: "client_audio_input",
    pb.MESSAGE_TYPE_SERVER_ERROR: "server_error",
    pb.MESSAGE_TYPE_SERVER_RESPONSE_ANIMATION: "server_response_animation",
    pb.MESSAGE_TYPE_CLIENT_INTERRUPT: "client_interrupt",
}

# The older spelling of a few ServerErrorCode members, kept for existing imports.
ERROR_INVALID_ARGUMENT = ServerErrorCode.INVALID_ARGUMENT
ERROR_UNAVAILABLE = ServerErrorCode.UNAVAILABLE
ERROR_UNAUTHENTICATED = ServerErrorCode.UNAUTHENTICATED
ERROR_INSUFFICIENT_BALANCE = ServerErrorCode.INSUFFICIENT_BALANCE
ERROR_SESSION_DURATION_EXCEEDED = ServerErrorCode.SESSION_DURATION_EXCEEDED
ERROR_AVATAR_UNKNOWN = ServerErrorCode.AVATAR_UNKNOWN
ERROR_SAMPLE_RATE_UNSUPPORTED = ServerErrorCode.SAMPLE_RATE_UNSUPPORTED
ERROR_CONCURRENT_LIMIT = ServerErrorCode.CONCURRENT_LIMIT


def configure_session(sample_rate: int, *, audio_format: int = pb.AUDIO_FORMAT_PCM_S16LE, bitrate: int = 0,
                      extra_params: Mapping[str, str] | None = None) -> bytes:
    """``CLIENT_CONFIGURE_SESSION``: the first message a client sends (answer over this WebSocket)."""
    if sample_rate not in SAMPLE_RATES:
        allowed = ", ".join(map(str, SAMPLE_RATES))
        raise AvatarError(ErrorCode.playbackInitFailed,
                          f"sample_rate must be one of {allowed} Hz, not {sample_rate!r}")
    if audio_format not in (pb.AUDIO_FORMAT_PCM_S16LE, pb.AUDIO_FORMAT_OGG_OPUS):
        raise AvatarError(ErrorCode.playbackInitFailed,
                          "audio_format must be AUDIO_FORMAT_PCM_S16LE (0) or AUDIO_FORMAT_OGG_OPUS (1), "
                          f"not {audio_format!r}")
    msg = pb.Message(type=pb.MESSAGE_TYPE_CLIENT_CONFIGURE_SESSION)
    cfg = msg.client_configure_session
    cfg.sample_rate = sample_rate
    cfg.bitrate = bitrate
    cfg.audio_format = audio_format
    cfg.transport_compression = pb.TRANSPORT_COMPRESSION_NONE
    cfg.egress_type = pb.EGRESS_TYPE_UNSPECIFIED
    for key, value in (extra_params or {}).items():
        cfg.extra_params[str(key)] = str(value)
    return msg.SerializeToString()


def confirm_session(connection_id: str) -> bytes:
    """``SERVER_CONFIRM_SESSION`` with the non-empty connection id the server assigned."""
    if not connection_id:
        raise AvatarError(ErrorCode.serverError, "connection_id must be a non-empty string")
    msg = pb.Message(type=pb.MESSAGE_TYPE_SERVER_CONFIRM_SESSION)
    msg.server_confirm_session.connection_id = connection_id
    return msg.SerializeToString()


def audio_input(req_id: str, audio: bytes, end: bool = False, *, traceparent: str = "", tracestate: str = "") -> bytes:
    """``CLIENT_AUDIO_INPUT``: one chunk of a round; ``end=True`` closes the round (an empty chunk is allowed)."""
    if not req_id:
        raise AvatarError(ErrorCode.serverError, "req_id must be a non-empty string naming the round")
    msg = pb.Message(type=pb.MESSAGE_TYPE_CLIENT_AUDIO_INPUT)
    body = msg.client_audio_input
    body.req_id = req_id
    body.end = bool(end)
    body.audio = bytes(audio)
    if traceparent or tracestate:
        body.trace_context.traceparent = traceparent
        body.trace_context.tracestate = tracestate
    return msg.SerializeToString()


def server_error(code: int, message: str, *, connection_id: str = "", req_id: str = "") -> bytes:
    """``SERVER_ERROR`` with a numeric ``code`` (see the ``ERROR_*`` constants) and a human message."""
    msg = pb.Message(type=pb.MESSAGE_TYPE_SERVER_ERROR)
    body = msg.server_error
    body.connection_id = connection_id
    body.req_id = req_id
    body.code = int(code)
    body.message = message
    return msg.SerializeToString()


def interrupt(req_id: str) -> bytes:
    """``CLIENT_INTERRUPT`` naming the round to stop."""
    msg = pb.Message(type=pb.MESSAGE_TYPE_CLIENT_INTERRUPT)
    msg.client_interrupt.req_id = req_id
    return msg.SerializeToString()


def animation_message(connection_id: str, req_id: str, keyframes: np.ndarray, start_frame: int,
                      end: bool) -> pb.Message:
    """``SERVER_RESPONSE_ANIMATION`` built field by field with protobuf (the codec's reference).

    ``keyframes`` is ``float32 (K, 20 + E)`` in the engine's motion layout.
    """
    kf = np.asarray(keyframes, dtype=np.float32)
    msg = pb.Message(type=pb.MESSAGE_TYPE_SERVER_RESPONSE_ANIMATION)
    body = msg.server_response_animation
    body.connection_id = connection_id
    body.req_id = req_id
    body.end = bool(end)
    body.animation.SetInParent()
    body.animation.start_frame = int(start_frame)
    for row in kf:
        flame = body.animation.keyframes.add()
        for name, lo, hi in FLAME_FIELDS:
            getattr(flame, name).extend(row[lo:hi if hi is not None else len(row)].tolist())
    return msg


def parse_message(data: bytes) -> pb.Message:
    """Parse one envelope; raise ``AvatarError(serverError)`` if it is not a well-formed, known message."""
    msg = pb.Message()
    try:
        msg.ParseFromString(bytes(data))
    except (DecodeError, ValueError, TypeError) as exc:
        raise AvatarError(ErrorCode.serverError,
                          f"received a malformed protocol message ({len(data)} bytes): {exc}; "
                          "check that the peer speaks the Motion Server protocol") from None
    expected = _PAYLOAD_OF_TYPE.get(msg.type)
    if expected is None:
        raise AvatarError(ErrorCode.serverError,
                          f"received a message of unknown type {msg.type}; expected one of "
                          f"{sorted(_PAYLOAD_OF_TYPE)} (protocol.md)")
    if msg.WhichOneof("data") != expected:
        raise AvatarError(ErrorCode.serverError,
                          f"message of type {pb.MessageType.Name(msg.type)} carries "
                          f"{msg.WhichOneof('data') or 'no payload'} instead of {expected}")
    return msg
