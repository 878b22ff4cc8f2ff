"""Shared helpers: the phoneme generator, espeak-ng speech, and the demo head's lip gap."""

from __future__ import annotations

import numpy as np
import pytest

from engine.avatar import load_bundled
from engine.avatar.demo import mesh as demo_mesh
from engine.plugins import get_plugin_manager
from engine.prepare.deform import Deformer

E = 50


def phoneme_generator(sample_rate: int = 22050, expression_count: int = E, seed: int = 0, **kwargs):
    return get_plugin_manager().get("motion_generators", "phoneme").factory(sample_rate, expression_count, seed,
                                                                           **kwargs)


def run(gen, audio: np.ndarray, chunk: int = 882) -> np.ndarray:
    parts = [gen.feed(audio[i:i + chunk]) for i in range(0, audio.size, chunk)]
    return np.concatenate(parts + [gen.finish()])


class LipGap:
    """Upper-to-lower lip distance (mm) on the demo head's midline, per keyframe."""

    def __init__(self) -> None:
        head = load_bundled("demo").head
        v = head.v_template
        slit = np.flatnonzero((np.abs(v[:, 0]) < 0.004) & (np.abs(v[:, 1] - demo_mesh.MOUTH_Y) < 1e-4)
                              & (v[:, 2] > v[:, 2].max() - 0.05))
        self.upper, self.lower = slit[head.weights[slit, 2] < 0.5], slit[head.weights[slit, 2] >= 0.5]
        assert self.upper.size and self.lower.size
        self.deform = Deformer(head)

    def __call__(self, keyframes: np.ndarray) -> np.ndarray:
        out = np.empty(len(keyframes))
        for i, pose in enumerate(keyframes):
            v = self.deform(np.ascontiguousarray(pose, np.float32))
            out[i] = 1000.0 * (v[self.upper, 1].mean() - v[self.lower, 1].mean())
        return out


@pytest.fixture(scope="session")
def lip_gap() -> LipGap:
    return LipGap()
