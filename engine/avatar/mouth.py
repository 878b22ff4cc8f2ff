"""Named mouth shapes, and how an avatar realises them with its expression coefficients.

A lip-sync motion generator drives these names; an avatar says which of its expression
coefficients (index → weight) make each one. The demo head has a blendshape per name
(``engine.avatar.demo.expressions``). For a FLAME avatar, fit each shape once: deform the
FLAME template with the demo's displacement for that shape transferred by nearest vertex
around the mouth, and solve least squares for the first PCA coefficients (docs/lipsync.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from ..errors import AvatarError, ErrorCode

MOUTH_SHAPES = ("mouth_open", "lip_press", "lip_pucker", "lip_funnel", "lip_spread", "upper_lip_up",
                "lower_lip_down")

MouthShapes = Mapping[str, Mapping[int, float]]


def validate_mouth_shapes(value, expression_count: int) -> dict[str, dict[int, float]]:
    """``{shape name: {expression index: weight}}`` checked against the names and the expression count.

    JSON keys are strings, so indices may come as ``"3"``. ``invalidAvatarMetadata`` names what is wrong.
    """
    def bad(message: str) -> AvatarError:
        return AvatarError(ErrorCode.invalidAvatarMetadata, f"mouth_shapes: {message}")

    if not isinstance(value, Mapping):
        raise bad(f"must map shape names to {{expression index: weight}}, not {value!r}")
    out: dict[str, dict[int, float]] = {}
    for name, coefficients in value.items():
        if name not in MOUTH_SHAPES:
            raise bad(f"unknown shape {name!r}; the shapes are {', '.join(MOUTH_SHAPES)}")
        if not isinstance(coefficients, Mapping):
            raise bad(f"{name!r} must map expression indices to weights, not {coefficients!r}")
        row: dict[int, float] = {}
        for index, weight in coefficients.items():
            try:
                i = int(index)
            except (TypeError, ValueError):
                raise bad(f"{name!r}: {index!r} is not an expression index") from None
            if not 0 <= i < expression_count:
                raise bad(f"{name!r}: expression index {i} is outside 0..{expression_count - 1}")
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight) \
                    or abs(weight) > 100:
                raise bad(f"{name!r}[{i}]: weight must be a finite number within ±100, not {weight!r}")
            row[i] = float(weight)
        out[name] = row
    return out
