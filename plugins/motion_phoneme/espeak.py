"""Speech with known phoneme timings from libespeak-ng (ctypes), for training and evaluation only.

The generator never imports this module: it is used by ``scripts/train_lipsync.py``, the lip-sync
benchmark and the tests, which need speech whose phonemes are known. The library's synchronous
mode hands each audio chunk to a callback together with its events; a phoneme event's ``sample``
is the phoneme's start in samples from the beginning of the text.

One process may hold one espeak-ng instance; :func:`synthesize` serialises calls with a lock.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading

import attrs
import numpy as np

from engine import AvatarError, ErrorCode

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INIT_PHONEME_EVENTS = 0x0001
_INIT_DONT_EXIT = 0x8000
_POS_CHARACTER = 1
_EVENT_LIST_TERMINATED, _EVENT_PHONEME = 0, 7
_RATE, _VOLUME, _PITCH, _RANGE = 1, 2, 3, 4


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint), ("text_position", ctypes.c_int),
                ("length", ctypes.c_int), ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", _EventId)]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


@attrs.frozen
class Utterance:
    """``audio`` int16 mono at ``sample_rate``; phoneme ``names`` (espeak mnemonics) starting at ``starts`` (samples)."""

    audio: np.ndarray
    sample_rate: int
    names: tuple[str, ...]
    starts: np.ndarray


class _Espeak:
    def __init__(self) -> None:
        path = ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1"
        try:
            self.lib = ctypes.CDLL(path)
        except OSError as exc:
            raise AvatarError(ErrorCode.serverError, f"libespeak-ng is not installed ({exc}); install the Debian "
                              "packages espeak-ng libespeak-ng1 espeak-ng-data") from exc
        self.sample_rate = self.lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, None,
                                                      _INIT_PHONEME_EVENTS | _INIT_DONT_EXIT)
        if self.sample_rate <= 0:
            raise AvatarError(ErrorCode.serverError, "espeak_Initialize failed; is espeak-ng-data installed?")
        self._chunks: list[np.ndarray] = []
        self._events: list[tuple[str, int]] = []
        self._callback = _CALLBACK(self._on_audio)  # kept referenced: the library holds the pointer
        self.lib.espeak_SetSynthCallback(self._callback)

    def _on_audio(self, wav, count, events) -> int:
        if count > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, (count,)).copy())
        i = 0
        while events[i].type != _EVENT_LIST_TERMINATED:
            if events[i].type == _EVENT_PHONEME:
                self._events.append((events[i].id.string.decode("ascii", "replace"), events[i].sample))
            i += 1
        return 0

    def synth(self, text: str, voice: str, rate: int, pitch: int, pitch_range: int) -> Utterance:
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise AvatarError(ErrorCode.serverError, f"espeak-ng has no voice {voice!r}; see `espeak-ng --voices`")
        for parameter, value in ((_RATE, rate), (_PITCH, pitch), (_RANGE, pitch_range), (_VOLUME, 100)):
            self.lib.espeak_SetParameter(parameter, int(value), 0)
        self._chunks, self._events = [], []
        data = text.encode("utf-8") + b"\0"
        self.lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, 0, None, None)
        self.lib.espeak_Synchronize()
        audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        names = tuple(n for n, _ in self._events)
        starts = np.array([s for _, s in self._events], np.int64).clip(0, audio.size)
        return Utterance(audio.astype(np.int16), self.sample_rate, names, starts)


_lock = threading.Lock()
_instance: _Espeak | None = None


def synthesize(text: str, voice: str = "en-us", rate: int = 160, pitch: int = 50, pitch_range: int = 50) -> Utterance:
    """Speak ``text`` with espeak-ng ``voice`` (e.g. ``"en-us+f3"``) at ``rate`` words/min."""
    global _instance
    with _lock:
        if _instance is None:
            _instance = _Espeak()
        return _instance.synth(text, voice, rate, pitch, pitch_range)
