"""espeak-ng speech with per-keyframe labels: the training corpus, and what evaluation holds out.

Training text is every docstring sentence of a fixed list of Python standard-library modules
(plain English, varied, nothing downloaded); evaluation uses :data:`HELD_OUT_SENTENCES`, written for
this purpose and removed from the training text. Voices are an espeak-ng accent plus a voice
variant; :data:`HELD_OUT_ACCENT` and :data:`HELD_OUT_VARIANTS` never appear in training.
"""

from __future__ import annotations

import importlib
import inspect
import re

import numpy as np

from engine.kit import layout

from .espeak import Utterance
from .phonemes import intervals, opening, sound_class

TRAIN_ACCENTS = ("en-us", "en", "en-gb-scotland", "en-gb-x-rp", "en-us-nyc", "en-gb-x-gbclan")
TRAIN_VARIANTS = ("", "m1", "m2", "m3", "m4", "m5", "m7", "m8", "f1", "f2", "f3", "f5", "klatt", "klatt2", "klatt4")
HELD_OUT_ACCENT = "en-029"
HELD_OUT_VARIANTS = ("f4", "m6", "klatt3")
HELD_OUT_VOICES = ("en-029+f4", "en-us+m6", "en+klatt3", "en-029+m3", "en-us-nyc+f4")

HELD_OUT_SENTENCES = (
    "My mother baked a plum pie for the people upstairs.",
    "Bob maps the Amazon by boat, mile by mile.",
    "Five vivid violets waved above the very fine fence.",
    "Please pass me both of the blue bowls, my friend.",
    "We were wondering when you would walk home with Maya.",
    "Many small boys keep marbles in a metal box.",
    "The moon came up, and the beach was empty and calm.",
    "Peter bought a map, a lamp, and a bamboo umbrella.",
    "I think it might rain before the evening meal.",
    "Maybe my brother remembers the number of the bus.",
)

TEXT_MODULES = ("argparse", "asyncio.events", "collections", "csv", "dataclasses", "datetime", "decimal",
                "email.message", "fractions", "functools", "heapq", "http.client", "inspect", "json",
                "logging", "os", "pathlib", "pickle", "random", "shutil", "statistics", "string",
                "subprocess", "tarfile", "textwrap", "threading", "typing", "unittest.case", "urllib.parse",
                "zipfile")

_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_WORDY = re.compile(r"^[A-Za-z][A-Za-z ,;'-]+[.!?]?$")


def training_sentences() -> list[str]:
    """Sentences of 4-24 plain words from the docstrings of :data:`TEXT_MODULES`, deduplicated, in order."""
    seen = set(HELD_OUT_SENTENCES)
    out = []
    for name in TEXT_MODULES:
        module = importlib.import_module(name)
        docs = [inspect.getdoc(module) or ""]
        docs += [inspect.getdoc(obj) or "" for _, obj in sorted(vars(module).items())
                 if (inspect.isfunction(obj) or inspect.isclass(obj)) and getattr(obj, "__module__", "") == name]
        for doc in docs:
            for sentence in _SENTENCE.split(" ".join(doc.split())):
                words = sentence.split()
                if 4 <= len(words) <= 24 and _WORDY.match(sentence) and sentence not in seen:
                    seen.add(sentence)
                    out.append(sentence)
    return out


# Words heavy in lip closures and lip shapes, for short drill phrases: docstrings have few of them.
DRILL_WORDS = ("mama", "papa", "baby", "bob", "mom", "map", "pump", "bomb", "mop", "maybe", "bubble", "ample",
               "people", "happy", "simple", "number", "member", "problem", "umbrella", "maple", "pebble", "bumpy",
               "lamb", "film", "five", "voice", "off", "wave", "food", "move", "who", "we", "you", "see", "eat",
               "tea", "key", "art", "car", "father", "hot", "up", "boot", "vow", "fee", "me", "by", "pie", "oh",
               "woman", "movie", "coffee", "apple", "empty", "jump", "more", "sleep", "stop", "top", "cab")


def drill_sentences(rng: np.random.Generator, count: int) -> list[str]:
    """``count`` phrases of 1-5 :data:`DRILL_WORDS` (a held-out sentence is never among them: they have more words)."""
    return [" ".join(rng.choice(DRILL_WORDS, size=int(rng.integers(1, 6)))) for _ in range(count)]


def phoneme_track(utt: Utterance, step_s: float = 0.005):
    """Times (s), opening and sound class of the phonemes every ``step_s``, unvoiced stops from their closure."""
    spans = intervals(utt.names, utt.starts, utt.audio, utt.sample_rate)
    times = np.arange(0.0, utt.audio.size / utt.sample_rate, step_s)
    samples = times * utt.sample_rate
    idx = np.clip(np.searchsorted(spans[:, 0], samples, side="right") - 1, 0, max(len(spans) - 1, 0))
    if not len(spans):
        return times, np.zeros(times.size), np.zeros(times.size, np.int64)
    open_table = np.array([opening(n) for n in utt.names])
    class_table = np.array([sound_class(n) for n in utt.names], np.int64)
    before = samples < spans[0, 0]
    op = np.where(before, 0.0, open_table[idx])
    cls = np.where(before, 0, class_table[idx])
    return times, op, cls


def smoothed(values: np.ndarray, step_s: float, width_s: float = 0.04) -> np.ndarray:
    """A centred box filter ``width_s`` wide (the reference opening is 'smoothed over 40 ms')."""
    n = max(int(round(width_s / step_s)), 1)
    kernel = np.ones(n) / n
    return np.convolve(np.pad(values, (n // 2, n - 1 - n // 2), mode="edge"), kernel, mode="valid")


def keyframe_labels(utt: Utterance, keyframes: int):
    """Per keyframe i (time i/25 s): reference opening (smoothed over 40 ms) and the sound class then."""
    step = 0.005
    times, op, cls = phoneme_track(utt, step)
    target = smoothed(op, step)
    at = np.minimum((np.arange(keyframes) / layout.MOTION_FPS / step).round().astype(np.int64), times.size - 1)
    return target[at], cls[at]


def bilabial_spans(utt: Utterance) -> np.ndarray:
    """``(N, 2)`` seconds of each p / b / m that sits between other sounds (not at an edge of the audio)."""
    spans = intervals_s(utt)
    keep = [i for i, n in enumerate(utt.names) if n in ("p", "b", "m") and 0 < i < len(utt.names) - 1]
    return spans[keep] if keep else np.zeros((0, 2))


def intervals_s(utt: Utterance) -> np.ndarray:
    """Phoneme intervals in seconds (unvoiced stops from their closure)."""
    return intervals(utt.names, utt.starts, utt.audio, utt.sample_rate) / utt.sample_rate
