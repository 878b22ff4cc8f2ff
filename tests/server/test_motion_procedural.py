"""The built-in ``procedural`` motion generator (engine.contracts.MotionGenerator)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.contracts import MotionGenerator
from engine.motion import layout
from engine.plugins import get_plugin_manager

from .raw_client import speech_like

E = 50


def make(sample_rate=16000, seed=7):
    return get_plugin_manager().get("motion_generators", "procedural").factory(sample_rate, E, seed)


def pcm(seconds, sample_rate=16000, seed=0):
    return np.frombuffer(speech_like(seconds, sample_rate, seed), "<i2")


def test_contract_and_shapes():
    gen = make()
    assert isinstance(gen, MotionGenerator)
    out = gen.feed(pcm(1.0))
    assert out.shape == (25, layout.motion_dim(E)) and out.dtype == np.float32 and np.isfinite(out).all()


def test_a_keyframe_is_emitted_as_soon_as_its_window_arrives():
    gen, audio = make(), pcm(0.2)
    assert len(gen.feed(audio[:639])) == 0  # one sample short of the first window
    assert len(gen.feed(audio[639:640])) == 1  # no look-ahead: the window alone completes it
    assert len(gen.feed(audio[640:1000])) == 0
    assert len(gen.finish()) == 1  # the partial window is padded
    assert len(gen.finish()) == 0


def test_deterministic_for_a_seed_and_different_across_seeds():
    audio = pcm(6.0)
    a = np.concatenate([make(seed=1).feed(audio[i:i + 700]) for i in range(0, audio.size, 700)])
    b = np.concatenate([make(seed=1).feed(audio[i:i + 700]) for i in range(0, audio.size, 700)])
    c = np.concatenate([make(seed=2).feed(audio[i:i + 700]) for i in range(0, audio.size, 700)])
    assert np.array_equal(a, b)
    assert not np.array_equal(a[:, layout.NECK], c[:, layout.NECK])


def test_jaw_follows_the_loudness_envelope_and_silence_closes_the_mouth():
    audio = np.concatenate([pcm(3.0), np.zeros(16000, np.int16)])
    out = make().feed(audio)
    env = np.abs(audio[: 75 * 640].astype(float)).reshape(75, 640).mean(axis=1)
    jaw = out[:75, layout.JAW.start]
    assert np.corrcoef(jaw, env)[0, 1] > 0.7
    assert out[-5:, layout.JAW.start].max() < 0.01  # the last 200 ms of a silent second
    assert 0.1 < jaw.max() <= 0.3
    mouth_open = out[:, layout.EXPRESSION_OFFSET]
    assert np.corrcoef(mouth_open[:75], env)[0, 1] > 0.7


def test_quiet_speech_still_moves_the_mouth_after_adapting():
    gen = make()
    quiet = (pcm(4.0).astype(np.int32) // 16).astype(np.int16)  # -24 dB
    out = gen.feed(quiet)
    assert out[50:, layout.JAW.start].max() > 0.1


def test_bright_and_dark_sounds_shape_the_lips_differently():
    t = np.arange(16000) / 16000
    dark = (np.sin(2 * np.pi * 200 * t) * 12000).astype(np.int16)  # /u/-like: energy low
    rng = np.random.default_rng(0)
    bright = (rng.standard_normal(16000) * 4000).astype(np.int16)  # hiss: energy high
    d, b = make().feed(dark), make().feed(bright)
    roun, spread = layout.EXPRESSION_OFFSET + 1, layout.EXPRESSION_OFFSET + 2
    assert d[10:, roun].mean() > 2 * b[10:, roun].mean()
    assert b[10:, spread].mean() > 2 * d[10:, spread].mean()


def test_blinks_every_two_to_six_seconds():
    out = make().feed(np.zeros(16000 * 60, np.int16))
    closed = out[:, layout.EYELIDS.start] >= 1.0
    starts = np.flatnonzero(closed)
    gaps = np.diff(starts) / 25
    assert len(starts) >= 10 and gaps.min() >= 2.0 and gaps.max() <= 6.3
    assert np.array_equal(out[:, 18], out[:, 19])


def test_sway_grows_with_loudness():
    quiet = make().feed(np.zeros(16000 * 20, np.int16))
    loud = make().feed(np.tile(pcm(1.0), 20))
    assert np.abs(loud[:, layout.NECK]).mean() > 1.5 * np.abs(quiet[:, layout.NECK]).mean()
    assert np.abs(loud[:, layout.ROTATION]).max() < 0.15  # sway stays subtle


def test_reset_drops_the_partial_window():
    gen = make()
    gen.feed(pcm(0.02))
    gen.reset()
    assert len(gen.finish()) == 0


@pytest.mark.parametrize("rate", [8000, 22050, 24000, 32000, 44100, 48000])
def test_every_supported_rate(rate):
    assert make(rate).feed(pcm(2.0, rate)).shape[0] == 50


def test_unsupported_rate_is_refused():
    with pytest.raises(ValueError, match="sample_rate"):
        make(11025)


@settings(max_examples=40, deadline=None)
@given(total=st.integers(0, 8000), cuts=st.lists(st.integers(0, 8000), max_size=12))
def test_any_chunking_gives_the_same_keyframes(total, cuts):
    """The contract's counting law (ceil(N / window) keyframes per round) holds for every chunking,
    and the keyframes do not depend on how the audio was cut."""
    audio = pcm(0.5)[:total]
    bounds = [0, *sorted(c for c in cuts if c < total), total]
    gen = make()
    chunked = [gen.feed(audio[a:b]) for a, b in zip(bounds, bounds[1:])] + [gen.finish()]
    whole = make()
    reference = np.concatenate([whole.feed(audio), whole.finish()])
    got = np.concatenate(chunked)
    assert got.shape == (-(-total // 640), layout.motion_dim(E))
    np.testing.assert_allclose(got, reference, atol=1e-5)


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 44100, 48000])
def test_numba_power_spectrum_matches_numpy(rate):
    from plugins.motion_procedural.features import Spectrum, power_spectrum

    spectrum = Spectrum(rate, rate // 25)
    x = np.random.default_rng(rate).standard_normal(rate // 25)
    power_spectrum(x, *spectrum.tables())
    reference = np.abs(np.fft.rfft(x * spectrum.taper, n=spectrum.nfft)) ** 2
    np.testing.assert_allclose(spectrum.power, reference, rtol=1e-9, atol=1e-9 * reference.max())
