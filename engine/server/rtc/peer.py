"""Answer one WebRTC offer with given outgoing tracks and negotiated data channels, ICE per an :class:`IcePolicy`.

This is the part of the RTC egress that knows nothing about motion: given a peer's SDP offer,
it makes an ``RTCPeerConnection`` with no STUN/TURN, keeps only the remote candidates the
policy allows, attaches the tracks to the offer's matching transceivers (send-only), creates the
data channels on the ids both sides agreed on (``negotiated=True``: no in-band DCEP round trip,
the channel exists on both sides from the start) and returns the answer. A server-rendered
video egress reuses it with a video track.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from ...rtc.ice import IcePolicy, filter_sdp_candidates, new_peer_connection, set_local_description
from .join_tokens import JoinRefused

MAX_OFFER_BYTES = 64 * 1024


@attrs.frozen
class ChannelSpec:
    label: str
    id: int
    ordered: bool = True  # with no max_retransmits / max_packet_life_time: reliable


@attrs.define(eq=False)
class Answered:
    pc: object  # aiortc.RTCPeerConnection
    channels: dict  # label -> RTCDataChannel
    sdp: str


def bad_offer(message: str) -> JoinRefused:
    return JoinRefused(400, "invalidOffer", message)


async def answer_offer(offer_sdp: str, *, tracks: Sequence = (), channels: Sequence[ChannelSpec] = (),
                       policy: IcePolicy) -> Answered:
    """The answer to ``offer_sdp``; :class:`JoinRefused` (400 ``invalidOffer``) naming what the offer lacks."""
    from aiortc import RTCSessionDescription

    if not offer_sdp.startswith("v=0"):
        raise bad_offer("the body must be an SDP offer (Content-Type: application/sdp, starting with 'v=0')")
    sdp, dropped = filter_sdp_candidates(offer_sdp, policy)
    if "a=candidate:" not in sdp:
        raise bad_offer(f"the offer has no ICE candidate on an address this server accepts "
                        f"({', '.join(policy.host_addresses)}); {dropped} other candidate(s) were ignored. "
                        "Gather candidates before sending the offer (non-trickle)")
    pc = new_peer_connection()
    try:
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        except Exception as exc:  # aiortc raises ValueError / KeyError / IndexError on bad SDP
            raise bad_offer(f"the SDP offer was refused: {exc}") from None
        for track in tracks:
            receivers = [t for t in pc.getTransceivers() if t.kind == track.kind and t.sender.track is None
                         and t.direction in ("recvonly", "sendrecv")]
            if not receivers:
                raise bad_offer(f"the offer has no {track.kind} section that can receive; add a recvonly "
                                f"{track.kind} transceiver before creating the offer")
            receivers[0].sender.replaceTrack(track)
            receivers[0].direction = "sendonly"
        if channels and pc.sctp is None:
            raise bad_offer("the offer has no data channel section; create the negotiated data channel "
                            f"{channels[0].label!r} (id {channels[0].id}) before creating the offer")
        opened = {spec.label: pc.createDataChannel(spec.label, ordered=spec.ordered, negotiated=True, id=spec.id)
                  for spec in channels}
        await set_local_description(pc, await pc.createAnswer(), policy)
    except BaseException:
        await pc.close()
        raise
    return Answered(pc, opened, pc.localDescription.sdp)
