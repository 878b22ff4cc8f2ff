"""The Motion Server wire protocol: protobuf messages, helpers, and the numba animation codec."""

from __future__ import annotations

from .codec import AnimationDecoder, DecodedAnimation, decode_animation, encode_animation

__all__ = ["AnimationDecoder", "DecodedAnimation", "decode_animation", "encode_animation"]
