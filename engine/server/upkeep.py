"""The per-process upkeep loop (every ``interval_s``, 0.5 s by default) and ending sessions from outside.

Each pass: renew this process's session leases (so a killed process's leases lapse and a live
one's never do), flush metered audio and refresh live apps' quotas, then end every live session
whose key or token was revoked (``unauthenticated``, so a revocation reaches every process within
one pass plus a query) or whose app's audio balance ran out (``insufficientBalance``).
A failing step is logged and retried next pass; the loop never stops the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict

from ..wire.messages import server_error
from .codes import CloseCode, ServerErrorCode
from .store import StoreUnavailable

log = logging.getLogger("facecast.server.upkeep")


async def end_session(session, code: ServerErrorCode, message: str, close_code: CloseCode) -> None:
    """Send ``SERVER_ERROR`` and close ``session``'s socket; its message loop then returns."""
    if session.ws.closed:
        return
    log.info("session %s (app %s) ended: %s (%d)", session.connection_id, session.app_id, message, int(code))
    with contextlib.suppress(ConnectionError):
        await session.ws.send_bytes(server_error(int(code), message, connection_id=session.connection_id))
        session.observer.error(code)
    await session.ws.close(code=int(close_code), message=message[:120].encode("utf-8"))


async def upkeep_once(server) -> None:
    live = server.live_sessions()  # {session: token claims}
    held: dict[str, list[str]] = defaultdict(list)
    for session in live:
        held[session.app_id].append(session.connection_id)
    await server.leases.renew(dict(held))
    await server.meter.flush(set(held))
    if not live:
        return
    try:
        revoked = await server.store.revoked([c.key_id for c in live.values() if c.key_id],
                                             [c.token_id for c in live.values()])
    except StoreUnavailable as exc:
        log.warning("revocation check skipped: %s", exc)
        revoked = set()
    endings = []
    for session, claims in live.items():
        if claims.token_id in revoked or (claims.key_id and claims.key_id in revoked):
            endings.append(end_session(session, ServerErrorCode.UNAUTHENTICATED,
                                       "the session token or the API key that issued it was revoked",
                                       CloseCode.POLICY_VIOLATION))
        elif (reason := server.meter.over(session.app_id)) is not None:
            endings.append(end_session(session, ServerErrorCode.INSUFFICIENT_BALANCE, f"insufficient balance: {reason}",
                                       CloseCode.POLICY_VIOLATION))
    if endings:
        await asyncio.gather(*endings, return_exceptions=True)


async def upkeep_loop(server, interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)
        try:
            await upkeep_once(server)
        except Exception:  # a bug here must not stop leases from being renewed next time
            log.exception("upkeep pass failed")
