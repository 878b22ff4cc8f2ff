"""The RTC path's parts on their own: the egress timeline, the data channel packets, the ICE policy."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import AvatarError
from engine.motion.layout import motion_dim
from engine.rtc import framing
from engine.rtc.ice import IcePolicy, filter_sdp_candidates, gathering
from engine.server.rtc.timeline import FRAME, Timeline
from engine.wire import AnimationDecoder, encode_animation


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_rounds_are_placed_ahead_of_the_live_position_and_late_chunks_leave_a_reported_gap():
    clock = Clock()
    line = Timeline(clock)
    clock.t += 0.5  # live at 24000
    start = line.place()
    assert start % FRAME == 0 and start >= line.live() + FRAME
    assert line.append(np.ones(4800, np.int16)) == (start, 0)
    clock.t += 0.5  # the next chunk comes 0.4 s after its place went out
    at, gap = line.append(np.full(960, 2, np.int16))
    assert gap == at - (start + 4800) and at % FRAME == 0 and at > line.live()
    out = np.empty(FRAME, np.int16)
    line.read(start, out)
    assert (out == 1).all()
    line.read(at, out)
    assert (out == 2).all()
    line.read(start + 4800, out)  # the gap itself is silence
    assert (out == 0).all()
    assert line.end_round() == at + 960


def test_a_cut_drops_queued_audio_from_the_next_frame_on():
    clock = Clock()
    line = Timeline(clock)
    start = line.place()
    line.append(np.ones(48000, np.int16))
    clock.t += 0.1
    cut = line.cut()
    assert cut % FRAME == 0 and line.live() < cut <= line.live() + FRAME
    out = np.empty(FRAME, np.int16)
    line.read(cut, out)
    assert not out.any()
    line.read(cut - FRAME, out)
    assert out.all()
    assert line.place() >= cut  # the next round starts where the cut one stopped, or later


def test_packets_round_trip_and_rebuild_the_envelope_protobuf_would_write():
    dim = motion_dim(50)
    keyframes = np.random.default_rng(0).standard_normal((3, dim)).astype(np.float32)
    flames = [framing.flame_bytes(k) for k in keyframes]
    assert framing.envelope("conn", "req", 7, flames, True) == encode_animation("conn", "req", keyframes, 7, True)
    for deflate in (False, True):
        kf = framing.parse_packet(framing.keyframe_packet(7, 123456, flames[0], start=True, deflate=deflate))
        assert (kf.frame_index, kf.sample_position, kf.flame, kf.start, kf.end) == (7, 123456, flames[0], True, False)
    decoded = AnimationDecoder(50).decode(framing.envelope("conn", "req", 0, flames[:1], False))
    np.testing.assert_array_equal(decoded.keyframes[0], keyframes[0])
    marker = framing.parse_packet(framing.marker_packet(framing.GAP, req_id="r", sample_position=9, gap_samples=960))
    assert (marker.kind, marker.req_id, marker.sample_position, marker.gap_samples) == (framing.GAP, "r", 9, 960)


@pytest.mark.parametrize("data", [b"", b"\x00\x05\x00\x00\x00abc", b"\x80\x00\x00\x00\x00",
                                  b"\x08\x03\x00\x00\x00abc", b"\x00\x02\x00\x00\x00ab",
                                  b"\x10\x02\x00\x00\x00\xff\xff"])
def test_malformed_packets_are_refused_with_a_reason(data):
    with pytest.raises(AvatarError) as refused:
        framing.parse_packet(data)
    assert refused.value.code.value == "serverError" and "RTC" in refused.value.message


def test_ice_gathers_only_on_the_policy_addresses_and_only_inside_the_block():
    import aioice.ice

    with gathering(IcePolicy()):
        assert aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=True) == ["127.0.0.1"]
    assert "127.0.0.1" not in aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=False)  # aioice as shipped
    sdp = ("v=0\r\na=candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host\r\n"
           "a=candidate:2 1 udp 2130706431 10.1.2.3 5001 typ host\r\n")
    kept, dropped = filter_sdp_candidates(sdp, IcePolicy())
    assert dropped == 1 and "10.1.2.3" not in kept and "127.0.0.1 5000" in kept
    with pytest.raises(ValueError):
        IcePolicy(host_addresses=("not-an-address",))
