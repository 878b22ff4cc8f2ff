"""``GET /v2/driveningress/websocket?id=<avatar>``: authenticate, admit, then run an :class:`IngressSession`.

Credentials come from headers (``X-App-ID``, ``X-Session-Key``) or, for browsers, query
parameters (``appId``, ``sessionKey``). A refused client still gets the WebSocket upgrade, so it
can read a ``SERVER_ERROR`` with the reason before the close.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging

from aiohttp import web

from ..wire.messages import server_error
from .codes import CloseCode, ServerErrorCode
from .context import SERVER_KEY
from .http_errors import error_response
from .leases import LeasesUnavailable
from .observe import SessionObserver
from .session import IngressSession
from .store import StoreUnavailable
from .tokens import TokenError

log = logging.getLogger("facecast.server.ingress")

HEARTBEAT_S = 20.0  # pings find dead peers; a client that never answers is closed by aiohttp


class Refusal(Exception):
    def __init__(self, code: ServerErrorCode, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


STORE_DOWN = Refusal(ServerErrorCode.UNAVAILABLE, "the service's database is unreachable; retry shortly")


def _credentials(request: web.Request) -> tuple[str, str, str]:
    avatar_id = request.query.get("id", "")
    app_id = request.headers.get("X-App-ID") or request.query.get("appId", "")
    token = request.headers.get("X-Session-Key") or request.query.get("sessionKey", "")
    return avatar_id, app_id, token


async def _admit(server, avatar_id: str, app_id: str, token: str):
    """Token claims and the avatar's expression count, or :class:`Refusal` naming the first failed rule."""
    if server.draining:
        raise Refusal(ServerErrorCode.UNAVAILABLE,
                      "this server is draining; reconnect (the balancer sends you elsewhere)")
    if not app_id or not await server.store.app_exists(app_id):
        raise Refusal(ServerErrorCode.APP_UNKNOWN, f"App ID {app_id!r} is not registered on this server" if app_id
                      else "send the App ID in the X-App-ID header or the appId query parameter")
    if not token:
        raise Refusal(ServerErrorCode.UNAUTHENTICATED,
                      "send a session token in the X-Session-Key header or the sessionKey "
                      "query parameter")
    try:
        claims = server.signer.verify(token, app_id)
    except TokenError as exc:
        raise Refusal(exc.code, exc.message) from None
    if await server.store.revoked([claims.key_id] if claims.key_id else [], [claims.token_id]):
        raise Refusal(ServerErrorCode.UNAUTHENTICATED, "this session token, or the API key that issued it, was revoked")
    expression_count = server.catalog.expression_count(avatar_id) if avatar_id else None
    if expression_count is None or not await server.store.is_granted(app_id, avatar_id):
        raise Refusal(ServerErrorCode.AVATAR_UNKNOWN,
                      f"avatar {avatar_id!r} does not exist or this App ID may not use it"
                      if avatar_id else "name the avatar in the id query parameter")
    return claims, expression_count


async def _lease(server, session) -> None:
    """Take one of the app's concurrent-session leases, then count the session against its quota."""
    limit = server.limits.max_sessions_per_app
    try:
        if not await server.leases.acquire(session.app_id, session.connection_id, limit):
            raise Refusal(ServerErrorCode.CONCURRENT_LIMIT,
                          f"App ID {session.app_id!r} already has {limit} concurrent sessions; "
                          "close one first")
    except LeasesUnavailable as exc:
        raise Refusal(ServerErrorCode.UNAVAILABLE,
                      f"the session service is unavailable ({exc}); retry shortly") from None
    try:
        reason = await server.meter.admit(session.app_id)
    except BaseException:
        await server.leases.release(session.app_id, session.connection_id)
        raise
    if reason is not None:
        await server.leases.release(session.app_id, session.connection_id)
        raise Refusal(ServerErrorCode.INSUFFICIENT_BALANCE, f"insufficient balance: {reason}")


async def _refuse(server, ws: web.WebSocketResponse, app_id: str, refusal: Refusal) -> web.WebSocketResponse:
    log.info("refused an ingress connection for app %r: %s", app_id, refusal.message)
    server.metrics.errors.labels(str(int(refusal.code))).inc()
    with contextlib.suppress(ConnectionError):  # the client may already be gone
        await ws.send_bytes(server_error(int(refusal.code), refusal.message))
    await ws.close(code=int(CloseCode.POLICY_VIOLATION), message=refusal.message[:120].encode("utf-8"))
    return ws


@functools.lru_cache(maxsize=32)
def _takes_mouth_shapes(factory) -> bool:
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "mouth_shapes" or p.kind is p.VAR_KEYWORD for p in parameters)


def generator_for(server, avatar_id: str):
    """The session's generator factory, given the avatar's mouth-shape mapping when it has one and the
    generator takes it (``mouth_shapes=``, docs/lipsync.md); generators that do not are called as before."""
    shapes = server.catalog.mouth_shapes(avatar_id)
    if shapes is None or not _takes_mouth_shapes(server.generator_factory):
        return server.generator_factory
    return functools.partial(server.generator_factory, mouth_shapes=shapes)


async def ingress_websocket(request: web.Request) -> web.StreamResponse:
    server = request.app[SERVER_KEY]
    # aiohttp's own cap is a backstop twice the protocol limit: between the two the session answers
    # with a SERVER_ERROR; beyond it the frame is refused with close code 1009 before it is buffered.
    # No permessage-deflate: PCM audio does not compress and zlib would cost more CPU than the motion.
    ws = web.WebSocketResponse(max_msg_size=2 * server.limits.max_message_bytes, heartbeat=HEARTBEAT_S,
                               compress=False)
    if not ws.can_prepare(request).ok:
        return error_response(400, "websocketRequired", "this endpoint speaks WebSocket only (protocol.md)")
    await ws.prepare(request)
    avatar_id, app_id, token = _credentials(request)
    try:
        claims, expression_count = await _admit(server, avatar_id, app_id, token)
    except Refusal as refusal:
        return await _refuse(server, ws, app_id, refusal)
    except StoreUnavailable:
        return await _refuse(server, ws, app_id, STORE_DOWN)
    session = IngressSession(ws, app_id=app_id, avatar_id=avatar_id, expression_count=expression_count,
                             token_expires_at=claims.expires_at, limits=server.limits,
                             generator_factory=generator_for(server, avatar_id), seed=server.next_seed(),
                             abort=lambda: request.transport is not None and request.transport.abort(),
                             observer=SessionObserver(server, app_id), rtc=server.rtc,
                             video=server.video, transport=request.transport)
    try:
        await _lease(server, session)
    except Refusal as refusal:
        return await _refuse(server, ws, app_id, refusal)
    except StoreUnavailable:
        return await _refuse(server, ws, app_id, STORE_DOWN)
    server.add_session(session, claims)
    server.metrics.sessions.inc()
    log.info("session %s opened for app %s, avatar %s", session.connection_id, app_id, avatar_id)
    try:
        await session.run()
    except Exception:  # a bug must cost this session only, never the server
        log.exception("session %s failed", session.connection_id)
        with contextlib.suppress(Exception):
            await ws.send_bytes(server_error(int(ServerErrorCode.UNAVAILABLE), "internal server error",
                                             connection_id=session.connection_id))
            await ws.close(code=int(CloseCode.INTERNAL_ERROR), message=b"internal server error")
    finally:
        server.remove_session(session)
        await server.leases.release(app_id, session.connection_id)
        await server.meter.flush_app(app_id)
        if not ws.closed:
            await ws.close()
        log.info("session %s closed", session.connection_id)
    return ws
