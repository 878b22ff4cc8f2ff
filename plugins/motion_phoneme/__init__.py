"""Built-in motion generator ``phoneme``: lip shapes from the sound classes a small classifier hears."""

from __future__ import annotations

import engine
from engine.kit import get_plugin_manager

from .generator import PhonemeMotionGenerator
from .mapping import mouth_matrix


def _factory(sample_rate: int, expression_count: int, seed: int = 0, mouth_shapes=None) -> PhonemeMotionGenerator:
    # Head sway, gaze and blinks are the procedural generator's; this one replaces the mouth.
    head = get_plugin_manager().get("motion_generators", "procedural").factory(
        sample_rate, expression_count, seed)
    return PhonemeMotionGenerator(sample_rate, expression_count, head, mouth_matrix(expression_count, mouth_shapes))


@engine.hookimpl
def register_motion_generators(register):
    register("phoneme", _factory)


__all__ = ["PhonemeMotionGenerator", "register_motion_generators"]
