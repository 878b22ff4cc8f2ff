"""One round as the RTC client receives it: which samples of the decoded track are the round's audio.

The server's markers say where the round starts and ends on the track's 48 kHz clock, and which
spans inside it are filler (gaps where the backend's audio came late). Only the round's own
samples go to the controller, resampled to its rate, so the controller's round clock counts
exactly the audio the motion was made from.
"""

from __future__ import annotations

import numpy as np

from engine.kit import MonoResampler, rtc_framing as framing


class RxRound:
    def __init__(self, req_id: str, start: int, rate: int) -> None:
        self.req_id = req_id
        self.start = start
        self.end: int | None = None  # one past the last sample, once the END marker came
        self.gaps: list[tuple[int, int]] = []
        self.conversation_id: str | None = None  # the controller's id, once its first sample was yielded
        self.held: list[bytes] = []  # animation envelopes waiting for the round to start playing
        self.keyframes = 0
        self.motion_ended = False
        self.started_at: float | None = None
        self._done_to = start  # track position up to which this round's audio was taken
        self._resampler = MonoResampler(framing.TRACK_RATE, rate)

    @property
    def complete(self) -> bool:
        """All of the round's audio has been taken."""
        return self.end is not None and self._done_to >= self.end

    def take(self, pts: int, mono: np.ndarray) -> np.ndarray:
        """The round's samples within the frame at ``pts``, at the controller's rate (gaps left out)."""
        lo = max(pts, self._done_to)
        hi = pts + len(mono) if self.end is None else min(pts + len(mono), self.end)
        if hi <= lo:
            return np.zeros(0, dtype=np.int16)
        keep = np.ones(hi - lo, dtype=bool)
        for at, n in self.gaps:
            a, b = max(at, lo), min(at + n, hi)
            if a < b:
                keep[a - lo:b - lo] = False
        self._done_to = hi
        return self._resampler.feed(mono[lo - pts:hi - pts][keep])

    def finish(self) -> np.ndarray:
        """What the resampler still holds."""
        return self._resampler.flush()
