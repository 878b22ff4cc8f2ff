"""Ogg Opus input: one Ogg Opus stream per round (protocol.md), decoded to PCM16 mono as it arrives.

Ogg pages are split into packets here (the format is a few fixed fields and a lacing table);
PyAV's libopus decodes the packets, and its resampler converts to the session's sample rate.
The ``OpusHead`` pre-skip (encoder delay) is dropped so keyframe i still covers the i-th 40 ms
of the speech. Bounded: at most one partial page and one partial packet are buffered.
"""

from __future__ import annotations

import struct

import numpy as np

MAX_PAGE_BYTES = 27 + 255 + 255 * 255
OPUS_RATE = 48000


class OggOpusError(ValueError):
    """The bytes are not a valid Ogg Opus stream."""


class OggOpusDecoder:
    """``feed(bytes) -> int16 samples`` at ``sample_rate`` for one round's Ogg Opus stream."""

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self._buffer = bytearray()
        self._packet = bytearray()  # a packet continued on the next page
        self._packets_seen = 0
        self._codec = None
        self._resampler = None
        self._skip = 0  # samples at 48 kHz still to drop (pre-skip)
        self._pre_skip = 0
        self._decoded = 0  # samples at 48 kHz kept so far
        self._end: int | None = None  # the stream's length at 48 kHz, from the last page's granule position
        self._serial: int | None = None

    def feed(self, data: bytes) -> np.ndarray:
        self._buffer += data
        out = []
        for packet in self._packets():
            out.extend(self._on_packet(packet))
        return np.concatenate(out) if out else np.zeros(0, np.int16)

    def finish(self) -> np.ndarray:
        """The samples the resampler still holds; call once the round's last bytes were fed."""
        if self._resampler is None:
            return np.zeros(0, np.int16)
        out = [f.to_ndarray().reshape(-1).astype(np.int16, copy=False) for f in self._resampler.resample(None)]
        return np.concatenate(out) if out else np.zeros(0, np.int16)

    def _packets(self):
        buf = self._buffer
        while len(buf) >= 27:
            if buf[:4] != b"OggS" or buf[4] != 0:
                raise OggOpusError("not an Ogg page (no 'OggS' capture pattern)")
            segments = buf[26]
            header = 27 + segments
            if len(buf) < header:
                return
            lacing = buf[27:header]
            end = header + sum(lacing)
            if len(buf) < end:
                return
            serial = struct.unpack_from("<I", buf, 14)[0]
            if self._serial is None:
                self._serial = serial
            elif serial != self._serial:
                raise OggOpusError("one round carries one Ogg stream; this page belongs to another (chained or "
                                   "multiplexed streams are not supported)")
            if buf[5] & 0x04:  # end of stream: its granule position is the exact length (plus pre-skip)
                self._end = max(0, struct.unpack_from("<q", buf, 6)[0] - self._pre_skip)
            at = header
            for size in lacing:
                self._packet += buf[at:at + size]
                at += size
                if size < 255:  # a lacing value under 255 ends the packet
                    packet, self._packet = bytes(self._packet), bytearray()
                    yield packet
            if len(self._packet) > MAX_PAGE_BYTES:
                raise OggOpusError("an Ogg packet spans too many pages")
            del buf[:end]
        if buf and buf[:min(4, len(buf))] != b"OggS"[:min(4, len(buf))]:
            raise OggOpusError("not an Ogg page (no 'OggS' capture pattern)")

    def _on_packet(self, packet: bytes) -> list[np.ndarray]:
        self._packets_seen += 1
        if self._packets_seen == 1:
            self._open(packet)
            return []
        if self._packets_seen == 2:
            if not packet.startswith(b"OpusTags"):
                raise OggOpusError("the second Ogg Opus packet must be OpusTags")
            return []
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
