"""An :class:`AvatarStream` as two WebRTC media tracks (aiortc): the rendered video and the speech.

One producer task steps the stream (one render per video frame, whatever the number of viewers)
and hands each step's picture and audio to the two source tracks; viewers subscribe through
aiortc's ``MediaRelay``. Both tracks stamp their frames from one origin (video pts in 1/90000 s,
audio in 1/48000 s) and release each frame at its due time on the monotonic clock, so the RTP
timestamps and the RTCP sender reports of the two tracks agree and the receiver's lip sync is the
stream's own (zero offset at the source; the video encoder's delay is all that is added).
"""

from __future__ import annotations

import asyncio
import fractions
import logging
import time

import av
import numpy as np
from aiortc import MediaStreamTrack
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError

from .compose import Compositor
from .stream import AvatarStream

log = logging.getLogger("facecast.video")

VIDEO_RATE = 90000
AUDIO_RATE = 48000
AUDIO_FRAME = AUDIO_RATE // 50  # 20 ms, WebRTC's packet time
LEAD_S = 0.08  # frames are made this far ahead of their due time (render jitter absorbed here)
QUEUE = 4  # video frames made ahead at most (audio: the same span)


class _Track(MediaStreamTrack):
    """A source track: frames from the producer, released at their due time."""

    def __init__(self, kind: str, media: "AvatarMedia", rate: int, depth: int) -> None:
        super().__init__()
        self.kind = kind
        self._media = media
        self._rate = rate
        self._time_base = fractions.Fraction(1, rate)
        self.queue: asyncio.Queue = asyncio.Queue(depth)

    async def recv(self):
        if self.readyState != "live":
            raise MediaStreamError
        self._media.start()
        frame = await self.queue.get()
        if frame is None:
            self.stop()
            raise MediaStreamError
        delay = self._media.origin + frame.pts / self._rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        return frame

    def put(self, frame) -> None:
        if self.queue.full():  # nobody reads (no viewer yet, or one stalled): the oldest goes
            self.queue.get_nowait()
        self.queue.put_nowait(frame)


class AvatarMedia:
    """``subscribe() -> (audio_track, video_track)`` for one viewer; ``close()`` ends every track.

    ``on_segment(started: bool)`` (optional) hears when speech starts and stops being heard.
    The stream must run at 48 kHz (Opus's rate): make it with ``AvatarStream.create(sample_rate=48000)``.
    """

    def __init__(self, stream: AvatarStream, *, background: tuple[int, int, int] = (28, 30, 38),
                 on_segment=None) -> None:
        if stream.sample_rate != AUDIO_RATE:
            raise ValueError(f"AvatarMedia needs a {AUDIO_RATE} Hz stream, not {stream.sample_rate} Hz")
        self.stream = stream
        self._compose = Compositor(stream.height, stream.width, background)
        per_frame = stream.step // AUDIO_FRAME
        self.video = _Track("video", self, VIDEO_RATE, QUEUE)
        self.audio = _Track("audio", self, AUDIO_RATE, QUEUE * per_frame)
        self._relay = MediaRelay()
        self.on_segment = on_segment
        self._silence = np.zeros(stream.step, np.int16)
        self._task: asyncio.Task | None = None
        self.origin = 0.0
        self.frames = 0
        self.closed = False

    def subscribe(self) -> tuple[MediaStreamTrack, MediaStreamTrack]:
        return self._relay.subscribe(self.audio), self._relay.subscribe(self.video)

    def start(self) -> None:
        """Start producing (the first viewer's first ``recv`` does this); idempotent."""
        if self._task is None and not self.closed:
            self.origin = time.monotonic() + LEAD_S
            self._task = asyncio.get_running_loop().create_task(self._produce(), name="facecast-video-producer")

    async def _produce(self) -> None:
        stream, fps = self.stream, self.stream.fps
        per_frame = stream.step // AUDIO_FRAME
        speaking = False
        try:
            while not self.closed:
                due = self.origin + self.frames / fps - LEAD_S
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                step = await stream.next_frame()
                picture = av.VideoFrame.from_ndarray(self._compose.rgba(step.rgba), format="rgba")
                picture.pts = self.frames * (VIDEO_RATE // fps)
                picture.time_base = self.video._time_base
                self.video.put(picture)
                pcm = step.audio if step.audio is not None else self._silence
                for k in range(per_frame):
                    sound = av.AudioFrame.from_ndarray(pcm[k * AUDIO_FRAME:(k + 1) * AUDIO_FRAME].reshape(1, -1),
                                                       format="s16", layout="mono")
                    sound.sample_rate = AUDIO_RATE
                    sound.pts = (self.frames * per_frame + k) * AUDIO_FRAME
                    sound.time_base = self.audio._time_base
                    self.audio.put(sound)
                self.frames += 1
                if (step.audio is not None) != speaking or step.segment_ended:
                    speaking = step.audio is not None and not step.segment_ended
                    if self.on_segment is not None:
                        self.on_segment(speaking)
                late = time.monotonic() - (self.origin + self.frames / fps)
                if late > 1.0:  # rendering cannot keep up: start a new grid rather than send a burst
                    log.warning("video egress is %.1f s behind real time; skipping ahead", late)
                    self.origin += late
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the video producer failed; the tracks end")
            self._end_tracks()

    def _end_tracks(self) -> None:
        for track in (self.audio, self.video):
            if track.queue.full():
                track.queue.get_nowait()
            track.queue.put_nowait(None)

    async def close(self) -> None:
        """Stop producing, end the tracks and release the stream's view. Idempotent."""
        if self.closed:
            return
        self.closed = True
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        self._end_tracks()
        self.audio.stop()
        self.video.stop()
        self.stream.close()
