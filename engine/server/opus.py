"""Ogg Opus input: one Ogg Opus stream per round (protocol.md), decoded to PCM16 mono as it arrives.

Ogg pages are split into packets here (the format is a few fixed fields and a lacing table);
PyAV's libopus decodes the packets, and its resampler converts to the session's sample rate.
The ``OpusHead`` pre-skip (encoder delay) is dropped so keyframe i still covers the i-th 40 ms
of the speech.

Decoding is pulled in bounded steps: a few hundred bytes of Ogg can describe hours of audio
(each two-byte packet may stand for 120 ms), so ``push`` only buffers and ``pull`` decodes at most
:data:`STEP_PACKETS` packets or about :data:`STEP_SAMPLES` samples at 48 kHz. The caller checks
its limits between steps and yields to the event loop. At most one partial page and one partial
packet are held besides the pushed bytes.
"""

from __future__ import annotations

import struct
from collections import deque

import numpy as np

MAX_PAGE_BYTES = 27 + 255 + 255 * 255
OPUS_RATE = 48000
STEP_PACKETS = 64  # parsing and decoding this many packets takes a few ms at most
STEP_SAMPLES = OPUS_RATE // 2  # ... and so does decoding and resampling half a second of audio


class OggOpusError(ValueError):
    """The bytes are not a valid Ogg Opus stream."""


class OggOpusDecoder:
    """``push(bytes)`` then ``pull()`` int16 samples at ``sample_rate`` until ``pending`` is False."""

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self._buffer = bytearray()
        self._queue: deque[bytes] = deque()  # complete packets of pages already parsed
        self._packet = bytearray()  # a packet continued on the next page
        self._packets_seen = 0
        self._codec = None
        self._resampler = None
        self._skip = 0  # samples at 48 kHz still to drop (pre-skip)
        self._pre_skip = 0
        self._decoded = 0  # samples at 48 kHz kept so far
        self._end: int | None = None  # the stream's length at 48 kHz, from the last page's granule position
        self._serial: int | None = None

    def push(self, data: bytes) -> None:
        """Buffer a chunk of the stream; nothing is decoded yet."""
        self._buffer += data

    @property
    def pending(self) -> bool:
        """Whether ``pull`` may return more: a parsed packet is queued or a whole page is buffered."""
        return bool(self._queue) or self._page_length() is not None

    def pull(self) -> np.ndarray:
        """Decode one bounded step of what was pushed (an empty array when nothing is complete)."""
        out: list[np.ndarray] = []
        samples = packets = 0
        while packets < STEP_PACKETS and samples < STEP_SAMPLES:
            packets += 1  # a page parsed counts as work too: a page may hold no packet at all
            if not self._queue:
                if not self._parse_page():
                    break
                continue
            for pcm in self._on_packet(self._queue.popleft()):
                samples += pcm.size * OPUS_RATE // self.sample_rate
                out.append(pcm)
        return np.concatenate(out) if out else np.zeros(0, np.int16)

    def feed(self, data: bytes) -> np.ndarray:
        """``push`` then ``pull`` until nothing is pending: everything decodable, in one call (unbounded)."""
        self.push(data)
        out = []
        while self.pending:
            out.append(self.pull())
        return np.concatenate(out) if out else np.zeros(0, np.int16)

    def finish(self) -> np.ndarray:
        """The samples the resampler still holds; call once the round's last bytes were pushed and pulled.

        Raises :class:`OggOpusError` if the stream stops inside a page or a packet (a truncated upload).
        """
        if self._buffer or self._packet:
            held = len(self._buffer) + len(self._packet)
            raise OggOpusError(f"the Ogg stream ends inside a page or packet ({held} bytes left over); "
                               "the upload was truncated — send whole pages")
        if self._resampler is None:
            return np.zeros(0, np.int16)
        out = [f.to_ndarray().reshape(-1).astype(np.int16, copy=False) for f in self._resampler.resample(None)]
        return np.concatenate(out) if out else np.zeros(0, np.int16)

    # -- Ogg framing ------------------------------------------------------------------------------

    def _page_length(self) -> int | None:
        """Length of the whole page at the buffer's start, None if it has not fully arrived."""
        buf = self._buffer
        if len(buf) < 27:
            if buf[:5] != b"OggS\x00"[:len(buf)]:  # refuse garbage before the whole header is in
                raise OggOpusError("not an Ogg page (no 'OggS' capture pattern)")
            return None
        if buf[:4] != b"OggS" or buf[4] != 0:
            raise OggOpusError("not an Ogg page (no 'OggS' capture pattern)")
        header = 27 + buf[26]
        if len(buf) < header:
            return None
        end = header + sum(buf[27:header])
        return end if len(buf) >= end else None

    def _parse_page(self) -> bool:
        """Move the packets of the next whole page into the queue; False if no whole page is buffered."""
        end = self._page_length()
        if end is None:
            return False
        buf = self._buffer
        serial = struct.unpack_from("<I", buf, 14)[0]
        if self._serial is None:
            self._serial = serial
        elif serial != self._serial:
            raise OggOpusError("one round carries one Ogg stream; this page belongs to another (chained or "
                               "multiplexed streams are not supported)")
        if buf[5] & 0x04:  # end of stream: its granule position is the exact length (plus pre-skip)
            self._end = max(0, struct.unpack_from("<q", buf, 6)[0] - self._pre_skip)
        header = 27 + buf[26]
        at = header
        for size in buf[27:header]:
            self._packet += buf[at:at + size]
            at += size
            if size < 255:  # a lacing value under 255 ends the packet
                self._queue.append(bytes(self._packet))
                self._packet = bytearray()
        if len(self._packet) > MAX_PAGE_BYTES:
            raise OggOpusError("an Ogg packet spans too many pages")
        del buf[:end]
        return True

    # -- Opus -------------------------------------------------------------------------------------

    def _on_packet(self, packet: bytes) -> list[np.ndarray]:
        self._packets_seen += 1
        if self._packets_seen == 1:
            self._open(packet)
            return []
        if self._packets_seen == 2:
            if not packet.startswith(b"OpusTags"):
                raise OggOpusError("the second Ogg Opus packet must be OpusTags")
            return []
        if not packet:
            return []  # a zero-length packet carries no frame (RFC 6716 §3.4 rule R1); libav reads it as end of input
        import av

        try:
            frames = self._codec.decode(av.Packet(packet))
        except av.FFmpegError as exc:
            raise OggOpusError(f"undecodable Opus packet: {exc}") from None
        out = []
        for frame in frames:
            if self._skip:
                drop = min(self._skip, frame.samples)
                self._skip -= drop
                if drop == frame.samples:
                    continue
                frame = _slice(frame, drop, frame.samples)
            if self._end is not None and self._decoded + frame.samples > self._end:  # the encoder's end padding
                keep = max(0, self._end - self._decoded)
                if keep == 0:
                    continue
                frame = _slice(frame, 0, keep)
            self._decoded += frame.samples
            for converted in self._resampler.resample(frame):
                out.append(converted.to_ndarray().reshape(-1).astype(np.int16, copy=False))
        return out

    def _open(self, head: bytes) -> None:
        import av

        if len(head) < 19 or not head.startswith(b"OpusHead"):
            raise OggOpusError("the first Ogg Opus packet must be OpusHead")
        channels, pre_skip = head[9], struct.unpack_from("<H", head, 10)[0]
        if channels not in (1, 2):
            raise OggOpusError(f"Opus streams of {channels} channels are not supported (mono or stereo)")
        self._codec = av.CodecContext.create("libopus", "r")
        self._codec.sample_rate = OPUS_RATE
        self._codec.layout = "mono" if channels == 1 else "stereo"
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=self.sample_rate)
        self._skip = self._pre_skip = pre_skip


def _slice(frame, start: int, stop: int):
    """Samples ``start:stop`` of an audio frame, as a new frame."""
    import av

    channels = 1 if frame.format.is_planar else len(frame.layout.channels)  # packed: samples interleave
    data = frame.to_ndarray()[..., start * channels:stop * channels]
    tail = av.AudioFrame.from_ndarray(np.ascontiguousarray(data), format=frame.format.name, layout=frame.layout.name)
    tail.sample_rate = frame.sample_rate
    return tail
