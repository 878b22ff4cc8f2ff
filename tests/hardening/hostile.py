"""Builders of hostile inputs shared by the hardening tests and ``benchmarks soak``-style probes."""

from __future__ import annotations

import struct

# TOC byte: config 31 (CELT fullband, 20 ms frames), code 3 (a counted run of frames); then the frame
# count byte: CBR, no padding, 6 frames. The frames are empty (lost), so libopus conceals 120 ms.
OPUS_120MS_PACKET = bytes([31 << 3 | 3, 6])


def ogg_page(packets: list[bytes], serial: int = 1, sequence: int = 0, flags: int = 0, granule: int = 0) -> bytes:
    """One Ogg page holding ``packets`` (each under 255 bytes); the CRC is left 0, which the server ignores."""
    lacing = bytes(len(p) for p in packets)
    assert all(len(p) < 255 for p in packets) and len(lacing) <= 255
    header = b"OggS" + bytes([0, flags]) + struct.pack("<qIII", granule, serial, sequence, 0) + bytes([len(lacing)])
    return header + lacing + b"".join(packets)


def opus_head(pre_skip: int = 312) -> bytes:
    return b"OpusHead" + bytes([1, 1]) + struct.pack("<HIhB", pre_skip, 48000, 0, 0)


def opus_bomb(pages: int = 320, packets_per_page: int = 255) -> bytes:
    """A small Ogg Opus stream that decodes to ``pages × packets_per_page × 120 ms`` of audio."""
    out = [ogg_page([opus_head()], flags=0x02), ogg_page([b"OpusTags" + bytes(8)], sequence=1)]
    out += [ogg_page([OPUS_120MS_PACKET] * packets_per_page, sequence=2 + i) for i in range(pages)]
    return b"".join(out)
