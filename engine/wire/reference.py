"""Reference animation decoder: the protobuf library plus numpy, with the same validation as the numba codec.

Tests compare the numba decoder with it; the ``motion`` benchmark uses it as the baseline.
"""

from __future__ import annotations

import numpy as np

from ..errors import AvatarError, ErrorCode
from ..motion.layout import MOTION_LIMIT, motion_dim
from . import message_pb2 as pb
from .codec import DecodedAnimation
from .flame_fields import FLAME_FIELDS
from .messages import parse_message


def decode_animation_reference(data: bytes, expression_count: int, max_keyframes: int = 256) -> DecodedAnimation:
    """Decode with ``message_pb2``; raise ``AvatarError`` for anything the numba decoder also rejects."""
    msg = parse_message(data)
    if msg.type != pb.MESSAGE_TYPE_SERVER_RESPONSE_ANIMATION:
        raise AvatarError(ErrorCode.serverError, f"expected a SERVER_RESPONSE_ANIMATION message, got type {msg.type}")
    body = msg.server_response_animation
    frames = body.animation.keyframes
    if len(frames) > max_keyframes:
        raise AvatarError(ErrorCode.serverError, f"animation message has more than {max_keyframes} keyframes")
    dim = motion_dim(expression_count)
    out = np.empty((len(frames), dim), dtype=np.float32)
    for i, flame in enumerate(frames):
        for name, lo, hi in FLAME_FIELDS:
            values = getattr(flame, name)
            hi = dim if hi is None else hi
            if len(values) != hi - lo:
                code = ErrorCode.invalidAvatarMetadata if name == "expression" else ErrorCode.serverError
                raise AvatarError(code, f"keyframe {i}: Flame.{name} has {len(values)} values, expected {hi - lo}")
            out[i, lo:hi] = values
    if not np.isfinite(out).all():
        raise AvatarError(ErrorCode.serverError, "a pose value is NaN or infinite")
    if out.size and np.abs(out).max() > MOTION_LIMIT:
        raise AvatarError(ErrorCode.serverError, f"a pose value lies beyond ±{MOTION_LIMIT:g}")
    return DecodedAnimation(req_id=body.req_id, connection_id=body.connection_id,
                            start_frame=body.animation.start_frame, end=body.end, keyframes=out)
