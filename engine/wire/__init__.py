"""The Motion Server wire protocol: protobuf messages, helpers, the protocol's codes, and the numba animation codec."""

from __future__ import annotations

from .codec import AnimationDecoder, DecodedAnimation, decode_animation, encode_animation
from .codes import CloseCode, RtcErrorCode, ServerErrorCode

__all__ = ["AnimationDecoder", "CloseCode", "DecodedAnimation", "RtcErrorCode", "ServerErrorCode", "decode_animation",
           "encode_animation"]
