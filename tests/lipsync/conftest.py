"""Shared helpers: the phoneme generator, espeak-ng speech, and the demo head's lip gap."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.lipsync import LipGap
from engine.avatar import load_bundled
from engine.plugins import get_plugin_manager

E = 50


def phoneme_generator(sample_rate: int = 22050, expression_count: int = E, seed: int = 0, **kwargs):
    return get_plugin_manager().get("motion_generators", "phoneme").factory(sample_rate, expression_count, seed,
                                                                           **kwargs)


def run(gen, audio: np.ndarray, chunk: int = 882) -> np.ndarray:
    parts = [gen.feed(audio[i:i + chunk]) for i in range(0, audio.size, chunk)]
    return np.concatenate(parts + [gen.finish()])


@pytest.fixture(scope="session")
def lip_gap() -> LipGap:
    return LipGap(load_bundled("demo").head)
