"""Built-in motion generator ``procedural``: jaw, lips, smile, blinks and sway from speech audio."""

from __future__ import annotations

import engine

from .generator import ProceduralMotionGenerator


def _factory(sample_rate: int, expression_count: int, seed: int = 0) -> ProceduralMotionGenerator:
    return ProceduralMotionGenerator(sample_rate, expression_count, seed)


@engine.hookimpl
def register_motion_generators(register):
    register("procedural", _factory)


__all__ = ["ProceduralMotionGenerator", "register_motion_generators"]
