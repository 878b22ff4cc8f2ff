"""Sound classes and the mouth opening each espeak-ng phoneme calls for (labels and evaluation targets).

The classes are the mouth shapes the generator tells apart from the audio. The opening table is the
reference a lip-sync score is measured against: 0 lips together, 1 a wide-open /a/. Names are
espeak-ng's phoneme mnemonics (``espeak-ng -x``); a name not listed is classed by its first letter.
"""

from __future__ import annotations

import numpy as np

CLASSES = ("silence", "bilabial", "labiodental", "rounded", "spread", "open", "consonant")
SILENCE, BILABIAL, LABIODENTAL, ROUNDED, SPREAD, OPEN, CONSONANT = range(len(CLASSES))

_CLASS_OF = {
    **dict.fromkeys(("_", "_:", "_!", "_|", "_#", ""), SILENCE),
    **dict.fromkeys(("p", "b", "m"), BILABIAL),
    **dict.fromkeys(("f", "v"), LABIODENTAL),
    **dict.fromkeys(("u:", "U", "u", "w", "O:", "O", "o@", "oU", "OI", "O@", "U@", "o", "0"), ROUNDED),
    **dict.fromkeys(("i:", "i", "I", "I2", "I#", "i@", "i@3", "E", "E2", "e@", "eI", "e", "j", "3:", "3"), SPREAD),
    **dict.fromkeys(("a", "aa", "a#", "A:", "A@", "aI", "aU", "V", "@", "@2", "@5", "@L", "a2", "A"), OPEN),
}

# Opening (0 closed .. 1 wide): vowels by jaw height, consonants by how far the jaw drops for them.
_OPENING = {
    "p": 0.0, "b": 0.0, "m": 0.0, "f": 0.08, "v": 0.08, "w": 0.12,
    "a": 1.0, "aa": 1.0, "a#": 0.85, "A:": 1.0, "A@": 0.95, "aI": 0.9, "aU": 0.85, "a2": 0.8, "A": 0.95,
    "V": 0.75, "0": 0.75, "O:": 0.65, "O": 0.65, "O@": 0.65, "OI": 0.6, "oU": 0.5, "o@": 0.55, "o": 0.5,
    "E": 0.6, "E2": 0.55, "e@": 0.6, "eI": 0.5, "e": 0.5, "3:": 0.45, "3": 0.4,
    "@": 0.4, "@2": 0.4, "@5": 0.35, "@L": 0.4,
    "I": 0.3, "I2": 0.3, "I#": 0.3, "i": 0.28, "i:": 0.25, "i@": 0.35, "i@3": 0.35,
    "U": 0.3, "u:": 0.25, "u": 0.25, "U@": 0.35,
    "h": 0.4, "k": 0.3, "g": 0.3, "N": 0.3, "r": 0.25, "l": 0.25, "j": 0.2,
}
_CONSONANT_OPENING = 0.2  # t d n s z T D S Z tS dZ and others: teeth nearly together
_VOWEL_LETTERS = "aeiouAEIOUV@03"


def sound_class(name: str) -> int:
    if name in _CLASS_OF:
        return _CLASS_OF[name]
    if name.startswith("_"):
        return SILENCE
    head = name[:1]
    if head in "pbm":
        return BILABIAL
    if head in "fv":
        return LABIODENTAL
    if head in "uUoO":
        return ROUNDED
    if head in "iIeE":
        return SPREAD
    if head in "aA@V":
        return OPEN
    return CONSONANT


def opening(name: str) -> float:
    cls = sound_class(name)
    if cls == SILENCE:
        return 0.0
    if name in _OPENING:
        return _OPENING[name]
    if cls == BILABIAL:
        return 0.0
    if name[:1] in _VOWEL_LETTERS:
        return 0.5
    return _CONSONANT_OPENING


UNVOICED_STOPS = frozenset(("p", "t", "k", "tS"))


def intervals(names, starts, audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """``(N, 2)`` sample intervals of the phonemes, with unvoiced stops starting at their closure.

    espeak-ng reports an unvoiced stop at its burst; the silent closure before it (where a speaker's
    lips are already together for /p/) is found as the run of quiet 5 ms frames ending at the burst,
    at most 100 ms long, and taken from the phoneme before.
    """
    starts = np.asarray(starts, np.int64)
    if starts.size == 0:
        return np.zeros((0, 2), np.int64)
    ends = np.append(starts[1:], audio.size)
    out = np.stack([starts, ends], axis=1)
    hop = max(sample_rate // 200, 1)
    x = audio.astype(np.float64)
    usable = x.size // hop * hop
    level = 10 * np.log10((x[:usable].reshape(-1, hop) ** 2).mean(axis=1) + 1.0)
    for i, name in enumerate(names):
        if name not in UNVOICED_STOPS or i == 0:
            continue
        burst = min(int(starts[i]) // hop, level.size)
        first = max(burst - 100 * sample_rate // 1000 // hop, 0)
        if burst <= first:
            continue
        window = level[first:burst]
        quiet = window < window.min() + 12.0
        k = burst
        while k > first and quiet[k - 1 - first]:
            k -= 1
        onset = max(k * hop, int(out[i - 1, 0]))
        out[i, 0] = onset
        out[i - 1, 1] = onset
    return out
