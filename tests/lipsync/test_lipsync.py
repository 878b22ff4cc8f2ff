"""The phoneme generator on real speech: closures, pauses, silence, odd input, mappings."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from engine import AvatarError, ErrorCode
from engine.avatar.mouth import MOUTH_SHAPES, validate_mouth_shapes
from engine.motion import layout
from plugins.motion_phoneme import speechset
from plugins.motion_phoneme.espeak import Utterance, synthesize
from plugins.motion_phoneme.model import load_weights

from .conftest import E, phoneme_generator, run

CLOSED_MM = 1.0
VOICES = ("en-us+m6", "en-029+f4")  # voices training never heard


def keyframe_range(start_s: float, end_s: float) -> slice:
    """Keyframes shown during [start, end] s, half a keyframe of slack either side."""
    return slice(max(int(np.floor((start_s - 0.02) * 25)), 0), int(np.ceil((end_s + 0.02) * 25)) + 1)


@pytest.mark.parametrize("voice", VOICES)
@pytest.mark.parametrize("text", ["mama", "papa", "Mama made a map. Papa put up a bamboo pole."])
def test_lips_meet_on_bilabials_and_part_on_vowels(lip_gap, voice, text):
    utt = synthesize(text, voice, rate=150)
    gap = lip_gap(run(phoneme_generator(utt.sample_rate), utt.audio))
    spans = speechset.bilabial_spans(utt)
    assert len(spans) >= 1
    closed = [gap[keyframe_range(s, e)].min() <= CLOSED_MM for s, e in spans]
    assert np.mean(closed) >= 0.75, f"lips met on {sum(closed)} of {len(closed)} p/b/m: {np.round(gap, 1)}"
    assert gap.max() > 5.0, "the vowels open the mouth"


def test_the_mouth_is_closed_after_a_pause_and_at_the_end_of_the_round(lip_gap):
    first = synthesize("Hello there, how are you", VOICES[0], rate=170)
    second = synthesize("I am fine, thank you", VOICES[0], rate=170)
    pause = np.zeros(int(0.6 * first.sample_rate), np.int16)
    audio = np.concatenate([first.audio, pause, second.audio, pause[:first.sample_rate // 4]])
    gap = lip_gap(run(phoneme_generator(first.sample_rate), audio, chunk=1600))

    def speech_end(utt, offset_s):
        return offset_s + max(e for (s, e), n in zip(speechset.intervals_s(utt), utt.names) if not n.startswith("_"))

    first_end = speech_end(first, 0.0)
    second_end = speech_end(second, (first.audio.size + pause.size) / first.sample_rate)
    for stop, until in ((first_end, (first.audio.size + pause.size) / first.sample_rate), (second_end, None)):
        after = gap[int(np.ceil((stop + 0.12) * 25)):None if until is None else int(until * 25)]
        assert after.size >= 2 and after.max() <= CLOSED_MM, f"lips apart after {stop:.2f} s: {np.round(after, 1)}"


def test_silence_and_malformed_audio_still_give_valid_keyframes(lip_gap):
    rng = np.random.default_rng(0)
    cases = {
        "silence": np.zeros(16000, np.int16),
        "clipped square": np.where(np.arange(16000) % 80 < 40, 32767, -32768).astype(np.int16),
        "white noise": rng.integers(-32768, 32767, 16000).astype(np.int16),
        "dc offset": np.full(16000, 12000, np.int16),
        "one sample": np.array([123], np.int16),
    }
    for name, audio in cases.items():
        gen = phoneme_generator(16000)
        out = run(gen, audio, chunk=777)
        assert out.shape == (int(np.ceil(audio.size * 25 / 16000)), layout.motion_dim(E)), name
        assert out.dtype == np.float32 and np.isfinite(out).all(), name
        if name == "silence":
            assert lip_gap(out).max() <= CLOSED_MM
    gen = phoneme_generator(16000)
    assert gen.feed(np.zeros((0,), np.int16)).shape == (0, layout.motion_dim(E))
    assert gen.feed(np.zeros((2, 320), np.int16)).shape[1] == layout.motion_dim(E)  # any shape is flattened


@pytest.mark.parametrize("rate", [8000, 16000, 24000, 48000])
def test_every_sample_rate_moves_the_mouth(rate):
    from scipy.signal import resample_poly

    utt = synthesize("Bob maps a path", VOICES[1])
    g = np.gcd(rate, utt.sample_rate)
    audio = resample_poly(utt.audio.astype(float), rate // g, utt.sample_rate // g).astype(np.int16)
    out = run(phoneme_generator(rate), audio, chunk=rate // 40)
    assert np.ptp(out[:, layout.JAW.start]) > 0.05


def test_an_avatar_without_a_mapping_moves_its_jaw_only_and_says_so(caplog):
    utt = synthesize("Hello, how are you?", VOICES[0])
    with caplog.at_level(logging.WARNING, logger="facecast.motion.phoneme"):
        gen = phoneme_generator(utt.sample_rate, expression_count=12)
    assert any("jaw only" in r.getMessage() for r in caplog.records)
    out = run(gen, utt.audio)
    assert np.ptp(out[:, layout.JAW.start]) > 0.05


def test_a_mapping_routes_shapes_to_the_named_coefficients():
    utt = synthesize("Who would move through the room", VOICES[0])
    mapping = {"lip_pucker": {"7": 0.5}, "mouth_open": {9: 1.0}}
    out = run(phoneme_generator(utt.sample_rate, expression_count=10, mouth_shapes=mapping), utt.audio)
    expr = out[:, layout.EXPRESSION_OFFSET:]
    assert expr[:, 7].max() > 0.1, "rounded vowels pucker through coefficient 7"
    assert np.ptp(expr[:, 9]) > 0.1


@pytest.mark.parametrize("bad, message", [
    ({"grin": {0: 1.0}}, "unknown shape"),
    ({"lip_press": {60: 1.0}}, "outside 0..49"),
    ({"lip_press": {"x": 1.0}}, "not an expression index"),
    ({"lip_press": {0: float("nan")}}, "finite"),
    ([1, 2], "must map"),
])
def test_bad_mouth_shapes_are_refused_with_a_clear_message(bad, message):
    with pytest.raises(AvatarError) as info:
        validate_mouth_shapes(bad, E)
    assert info.value.code == ErrorCode.invalidAvatarMetadata and message in info.value.message


def test_every_shape_name_is_a_demo_blendshape():
    from engine.avatar.demo.expressions import NAMED_EXPRESSIONS, mouth_shapes

    assert set(MOUTH_SHAPES) <= set(NAMED_EXPRESSIONS)
    assert validate_mouth_shapes(mouth_shapes(), E).keys() == set(MOUTH_SHAPES)


def test_the_shipped_weights_are_small_and_broken_weights_fail_clearly(tmp_path):
    from importlib import resources

    size = resources.files("plugins.motion_phoneme").joinpath("weights.npz").stat().st_size \
        if hasattr(resources.files("plugins.motion_phoneme").joinpath("weights.npz"), "stat") else None
    w = load_weights()
    assert sum(a.nbytes for a in w.arrays().values()) <= 2 << 20 and (size is None or size <= 2 << 20)
    broken = tmp_path / "w.npz"
    np.savez(broken, **{**w.arrays(), "w2": np.full_like(w.w2, np.nan)})
    with pytest.raises(AvatarError, match="finite"):
        load_weights(broken)


def test_unvoiced_stops_start_at_their_silent_closure():
    """espeak-ng reports /p/ at its burst; the label moves its start back to where the audio went quiet."""
    utt = synthesize("a papa", VOICES[0], rate=140)
    spans = speechset.intervals_s(utt)
    for i, name in enumerate(utt.names):
        if name == "p" and i > 0:
            assert spans[i, 0] < utt.starts[i] / utt.sample_rate - 0.015
    empty = Utterance(np.zeros(100, np.int16), 16000, (), np.zeros(0, np.int64))
    assert speechset.keyframe_labels(empty, 1)[0].tolist() == [0.0]


def test_head_gaze_and_blinks_are_the_procedural_generators_across_rounds():
    """The phoneme kernel runs the procedural head per window: every channel it does not drive (all but
    the jaw and the mapped mouth coefficients) equals what ``procedural`` gives for the same audio and seed,
    round after round (its blink and sway clock runs on), whatever the chunking."""
    from engine.plugins import get_plugin_manager
    from plugins.motion_phoneme.mapping import mouth_matrix

    utt = synthesize("Mama made a map. Papa put up a bamboo pole.", VOICES[0])
    head = np.ones(layout.motion_dim(E), bool)
    head[layout.JAW.start] = False
    head[layout.EXPRESSION_OFFSET:][np.abs(mouth_matrix(E)).sum(axis=0) > 0] = False
    procedural = get_plugin_manager().get("motion_generators", "procedural").factory(utt.sample_rate, E, 5)
    phoneme = phoneme_generator(utt.sample_rate, seed=5)
    for chunk in (882, 37, 5000):  # three rounds: 2.6 s each, 1-2 blinks
        a, b = run(procedural, utt.audio, chunk=882), run(phoneme, utt.audio, chunk=chunk)
        assert a.shape == b.shape
        np.testing.assert_array_equal(b[:, head], a[:, head])
        assert np.ptp(a[:, layout.NECK], axis=0).max() > 0  # the head does move
