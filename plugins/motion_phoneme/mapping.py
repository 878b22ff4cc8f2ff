"""Named mouth shapes → the avatar's expression coefficients, as one matrix."""

from __future__ import annotations

import logging

import numpy as np

from engine.kit import DEMO_EXPRESSION_COUNT as DEMO_EXPRESSIONS
from engine.kit import MOUTH_SHAPES, demo_mouth_shapes, validate_mouth_shapes

log = logging.getLogger("facecast.motion.phoneme")


def mouth_matrix(expression_count: int, mouth_shapes=None) -> np.ndarray:
    """``(len(MOUTH_SHAPES), expression_count)``: row s holds the coefficients of shape s.

    ``mouth_shapes`` None means the avatar did not say: an avatar with the demo head's expression
    layout gets the demo's shapes, any other animates its jaw only (a warning says so).
    """
    if mouth_shapes is None:
        if expression_count != DEMO_EXPRESSIONS:
            log.warning("the avatar maps no mouth shapes to its %d expression coefficients: lip-sync moves the "
                        "jaw only (add 'mouth_shapes' to its manifest, see docs/lipsync.md)", expression_count)
            return np.zeros((len(MOUTH_SHAPES), expression_count))
        mouth_shapes = demo_mouth_shapes()
    shapes = validate_mouth_shapes(mouth_shapes, expression_count)
    m = np.zeros((len(MOUTH_SHAPES), expression_count))
    for s, name in enumerate(MOUTH_SHAPES):
        for index, weight in shapes.get(name, {}).items():
            m[s, index] = weight
    return m
