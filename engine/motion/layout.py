"""The engine's motion layout: one float32 vector per keyframe.

``[translation 3 | rotation 3 | neck 3 | jaw 3 | eyes 6 | eyelids 2 | expression E]``
— rotations are axis-angle (radians), eyes are left then right, ``D = 20 + E``.
"""

from __future__ import annotations

MOTION_FPS = 25
TRANSLATION = slice(0, 3)
ROTATION = slice(3, 6)
NECK = slice(6, 9)
JAW = slice(9, 12)
EYES = slice(12, 18)
EYE_LEFT = slice(12, 15)
EYE_RIGHT = slice(15, 18)
EYELIDS = slice(18, 20)
EXPRESSION_OFFSET = 20
MAX_EXPRESSIONS = 100
# Every keyframe value (metres, radians, blendshape weights) lies within ±MOTION_LIMIT. A talking
# head moves centimetres and turns well under a radian; values far outside collapse the posed
# mesh in float32, so they are refused where motion enters (the wire decoder, MotionBuffer).
MOTION_LIMIT = 10.0
# Axis-angle triples, interpolated with quaternion slerp; everything else is lerped.
ROTATION_TRIPLES = (3, 6, 9, 12, 15)


def motion_dim(expression_count: int) -> int:
    """Length of one keyframe vector for ``expression_count`` expression coefficients."""
    if not 0 <= expression_count <= MAX_EXPRESSIONS:
        raise ValueError(f"expression count must be 0..{MAX_EXPRESSIONS}, not {expression_count}")
    return EXPRESSION_OFFSET + expression_count


def samples_per_frame(sample_rate: int) -> float:
    """Audio samples one keyframe covers: keyframe i covers ``[i*spf, (i+1)*spf)``."""
    return sample_rate / MOTION_FPS
