"""One peer's audio track: 20 ms frames of the egress :class:`Timeline`, sent when they are due.

aiortc pulls ``recv()`` in a loop and encodes each frame to Opus; sleeping until a frame's due
time is what paces the stream in real time. The first frame a track sends fixes its *origin* on
the timeline: the receiver's frame ``pts`` 0 (received RTP timestamps are re-based to the first
packet), so a timeline position ``p`` is ``p - origin`` on that peer's clock.
"""

from __future__ import annotations

import asyncio
import fractions
import time

import av
import numpy as np
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from ...rtc.framing import TRACK_RATE
from .timeline import FRAME, Timeline, align_up

_TIME_BASE = fractions.Fraction(1, TRACK_RATE)


class EgressAudioTrack(MediaStreamTrack):
    kind = "audio"

    def __init__(self, timeline: Timeline, on_start=None, clock=time.monotonic) -> None:
        super().__init__()
        self._timeline = timeline
        self._clock = clock
        self._on_start = on_start
        self.origin: int | None = None
        self._pts = 0
        self._pcm = np.zeros(FRAME, dtype=np.int16)

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self.origin is None:
            self.origin = align_up(self._timeline.live())
            if self._on_start is not None:
                self._on_start(self.origin)
        position = self.origin + self._pts
        delay = self._timeline.due(position) - self._clock()
        if delay > 0:
            await asyncio.sleep(delay)
        self._timeline.read(position, self._pcm)
        frame = av.AudioFrame.from_ndarray(self._pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = TRACK_RATE
        frame.pts = self._pts
        frame.time_base = _TIME_BASE
        self._pts += FRAME
        return frame
