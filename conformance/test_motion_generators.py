"""Motion-generator conformance: the rules of ``engine.contracts.MotionGenerator`` for any generator.

Run on your plugin with ``facecast conformance --motion-generator NAME``. The checks are generic
(counts, layout, chunking, determinism, latency, reset/finish); how good the motion looks is not
judged here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.contracts import MotionGenerator

from .plugin import registration

FPS = 25
LOOKAHEAD_S = 0.08
EYELIDS = slice(18, 20)


def speech(seconds: float, rate: int, seed: int = 0) -> np.ndarray:
    """Syllable-like bursts of a voiced tone with noise, and pauses: enough to move any generator."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    envelope = np.clip(np.sin(2 * math.pi * 2.5 * t), 0, None) ** 0.5
    voiced = np.sin(2 * math.pi * 140 * t) + 0.5 * np.sin(2 * math.pi * 700 * t) + 0.2 * rng.normal(size=t.shape)
    return (np.clip(envelope * voiced * 9000, -32768, 32767)).astype(np.int16)


def run_round(gen, audio: np.ndarray, chunks) -> np.ndarray:
    """Feed ``audio`` in chunks of the given lengths (cycled), then finish; all keyframes of the round."""
    out, at, i = [], 0, 0
    while at < audio.shape[0]:
        n = chunks[i % len(chunks)]
        out.append(gen.feed(audio[at:at + n]))
        at += n
        i += 1
    out.append(gen.finish())
    return np.concatenate(out)


@pytest.fixture
def factory(motion_generator_name):
    return registration("motion_generators", motion_generator_name).factory


@pytest.mark.parametrize("rate, expressions", [(16000, 50), (24000, 10), (48000, 100), (8000, 0)])
def test_keyframes_have_the_engine_layout_and_count(factory, rate, expressions):
    gen = factory(rate, expressions, 1)
    assert isinstance(gen, MotionGenerator), "missing feed/finish/reset"
    for seconds in (1.0, 0.37, 0.01):
        audio = speech(seconds, rate)
        frames = run_round(gen, audio, [rate // 50])
        assert frames.dtype == np.float32 and frames.ndim == 2 and frames.shape[1] == 20 + expressions, (
            f"keyframes must be float32 (K, 20 + E), got {frames.dtype} {frames.shape}")
        assert frames.shape[0] == math.ceil(audio.shape[0] * FPS / rate), (
            f"{audio.shape[0]} samples at {rate} Hz must give {math.ceil(audio.shape[0] * FPS / rate)} keyframes, "
            f"got {frames.shape[0]}")


def test_values_are_finite_and_in_range(factory):
    gen = factory(16000, 50, 3)
    for audio in (speech(2.0, 16000), np.zeros(16000, np.int16), np.full(8000, 32767, np.int16),
                  np.full(8000, -32768, np.int16)):
        frames = run_round(gen, audio, [320])
        assert np.isfinite(frames).all(), "keyframes must be finite"
        assert np.abs(frames).max(initial=0.0) <= 10.0, "keyframe values lie within ±10 (clients refuse more)"
        lids = frames[:, EYELIDS]
        assert (lids >= -1e-6).all() and (lids <= 1 + 1e-6).all(), "eyelids are 0 (open) .. 1 (closed)"
        rotations = frames[:, 3:18]
        assert np.abs(rotations).max() < math.pi, "rotations are axis-angle radians, well under π"


def test_empty_chunks_give_no_keyframes(factory):
    gen = factory(16000, 10, 0)
    got = gen.feed(np.zeros(0, np.int16))
    assert got.shape == (0, 30) and got.dtype == np.float32
    assert gen.finish().shape[0] == 0, "a round with no audio has no keyframes"


def test_keyframes_do_not_depend_on_how_the_audio_is_chunked(factory):
    audio = speech(1.5, 16000, seed=4)
    reference = run_round(factory(16000, 50, 7), audio, [audio.shape[0]])
    for chunks in ([1], [37], [640, 0, 13, 2000], [159, 161]):
        got = run_round(factory(16000, 50, 7), audio, chunks)
        np.testing.assert_allclose(got, reference, atol=1e-5,
                                   err_msg=f"chunks of {chunks} samples gave other keyframes than one chunk")


def test_deterministic_for_the_same_seed(factory):
    audio = speech(1.0, 24000, seed=2)
    a = run_round(factory(24000, 50, 11), audio, [480])
    b = run_round(factory(24000, 50, 11), audio, [480])
    np.testing.assert_array_equal(a, b)


def test_latency_is_at_most_the_window_plus_80_ms(factory):
    """Keyframe i is returned by the feed that brings the round to (i+1)/25 s + 80 ms of audio, or earlier."""
    rate = 16000
    chunk = rate // 100
    audio = speech(2.0, rate, seed=5)
    gen = factory(rate, 50, 0)
    have = 0
    for at in range(0, audio.shape[0], chunk):
        have += gen.feed(audio[at:at + chunk]).shape[0]
        fed = at + chunk
        due = math.floor((fed / rate - LOOKAHEAD_S) * FPS + 1e-9)  # windows complete 80 ms or more ago
        assert have >= due, f"after {fed / rate:.2f} s of audio only {have} keyframes were out, {due} were due"
    gen.finish()


def test_reset_drops_the_round_and_finish_starts_a_new_one(factory):
    rate = 16000
    gen = factory(rate, 50, 0)
    gen.feed(speech(0.53, rate))  # a round left half-way
    gen.reset()
    audio = speech(0.6, rate, seed=1)
    assert run_round(gen, audio, [320]).shape[0] == 15, "after reset() a round counts its keyframes from zero"
    assert run_round(gen, speech(0.4, rate), [333]).shape[0] == 10, "after finish() a new round starts from zero"
    frames = run_round(gen, speech(1.0, rate, seed=9), [320])
    assert np.isfinite(frames).all()
