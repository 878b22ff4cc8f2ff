"""ICE for this project's WebRTC peers: host candidates on the addresses an :class:`IcePolicy` names, nothing else.

aioice gathers a host candidate on every interface except 127.0.0.1, and has no option to
choose. Facecast's RTC path must be able to run on loopback only (tests, one-machine
deployments, and machines with an interface that must never carry this traffic), so the
module-level address lookup aioice calls is replaced, once, by one that asks a context
variable first: inside :func:`gathering`, the policy's addresses are the whole answer;
anywhere else aioice behaves exactly as shipped. aiortc gathers inside
``setLocalDescription``, in tasks that inherit the caller's context, so wrapping that call is
enough. No STUN or TURN server is ever configured, so no other candidate type exists.

Remote candidates are filtered the same way (:func:`filter_sdp_candidates`): a peer that
offers an address outside the policy never gets a connectivity check sent to it.
"""

from __future__ import annotations

import contextlib
import contextvars
import ipaddress

import attrs

LOOPBACK = ("127.0.0.1",)

_addresses: contextvars.ContextVar[tuple[str, ...] | None] = contextvars.ContextVar("facecast_ice_addresses",
                                                                                     default=None)
_installed = False


def _valid_addresses(value) -> tuple[str, ...]:
    addresses = tuple(str(a) for a in value)
    if not addresses:
        raise ValueError("IcePolicy.host_addresses must name at least one address")
    for address in addresses:
        ipaddress.ip_address(address)  # ValueError names the bad one
    return addresses


@attrs.frozen
class IcePolicy:
    """Where a peer may gather host candidates and which remote candidates it accepts.

    ``host_addresses``: the local IP addresses to gather on (default: 127.0.0.1 only).
    Remote candidates whose address is not one of them are dropped from a received SDP.
    """

    host_addresses: tuple[str, ...] = attrs.field(default=LOOPBACK, converter=_valid_addresses)

    def allows(self, address: str) -> bool:
        return address in self.host_addresses


def _install() -> None:
    """Make aioice's host-address lookup honour :func:`gathering` (idempotent, process-wide, inert outside it)."""
    global _installed
    if _installed:
        return
    import aioice.ice

    original = aioice.ice.get_host_addresses

    def get_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        chosen = _addresses.get()
        if chosen is None:
            return original(use_ipv4, use_ipv6)
        return [a for a in chosen if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]

    aioice.ice.get_host_addresses = get_host_addresses
    _installed = True


@contextlib.contextmanager
def gathering(policy: IcePolicy):
    """Within this block (and tasks started from it) ICE gathers host candidates on ``policy``'s addresses only."""
    _install()
    token = _addresses.set(policy.host_addresses)
    try:
        yield
    finally:
        _addresses.reset(token)


def new_peer_connection():
    """An ``RTCPeerConnection`` with no STUN/TURN servers (host candidates only)."""
    from aiortc import RTCConfiguration, RTCPeerConnection

    return RTCPeerConnection(configuration=RTCConfiguration(iceServers=[]))


async def set_local_description(pc, description, policy: IcePolicy) -> None:
    """``pc.setLocalDescription`` with gathering restricted to ``policy``."""
    with gathering(policy):
        await pc.setLocalDescription(description)


def candidate_addresses(sdp: str) -> list[str]:
    """The connection address of every ``a=candidate`` line of ``sdp``."""
    out = []
    for line in sdp.splitlines():
        if line.startswith("a=candidate:"):
            parts = line.split()
            if len(parts) > 4:
                out.append(parts[4])
    return out


def filter_sdp_candidates(sdp: str, policy: IcePolicy) -> tuple[str, int]:
    """``sdp`` without the candidates ``policy`` does not allow, and how many were dropped."""
    kept, dropped = [], 0
    for line in sdp.splitlines():
        if line.startswith("a=candidate:"):
            parts = line.split()
            if len(parts) <= 4 or not policy.allows(parts[4]):
                dropped += 1
                continue
        kept.append(line)
    return "\r\n".join(kept) + "\r\n", dropped
