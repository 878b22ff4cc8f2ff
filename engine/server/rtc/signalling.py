"""WHEP-style joining of a session's WebRTC egress, on the console API's host.

- ``POST /v1/rtc/sessions/<connection id>/whep`` with ``Authorization: Bearer <join token>`` and
  an SDP offer (``Content-Type: application/sdp``, non-trickle: candidates gathered) → 201 with
  the SDP answer and ``Location`` naming the peer's resource.
- ``DELETE`` on that resource (same token) leaves; the session and other peers go on.
- ``POST /v1/rtc/sessions/<connection id>/join-tokens`` with the session's own credentials
  (``X-App-ID`` + ``X-Session-Key``) → ``{"joinToken", "expireAt"}``: a fresh token for a re-join.

Every refusal is the protocol's JSON error shape with its own code (docs/protocol.md).
"""

from __future__ import annotations

import logging

from aiohttp import web

from ..context import SERVER_KEY
from ..http_errors import error_response
from ..tokens import TokenError
from .join_tokens import JoinRefused

log = logging.getLogger("facecast.server.rtc.signalling")


def _bearer(request: web.Request) -> str:
    value = request.headers.get("Authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _egress(request: web.Request):
    server = request.app[SERVER_KEY]
    connection_id = request.match_info["connection_id"]
    server.rtc.signer.verify(_bearer(request), connection_id)  # first: never say whether a session exists
    egress = server.rtc.get(connection_id)
    if egress is None:
        raise JoinRefused(404, "sessionNotFound", f"session {connection_id!r} has no WebRTC egress (it ended, or it "
                          "was not configured with EGRESS_TYPE_WEBRTC)")
    return egress


async def join(request: web.Request) -> web.StreamResponse:
    try:
        egress = _egress(request)
        if request.content_type != "application/sdp":
            raise JoinRefused(415, "unsupportedMediaType", "send the SDP offer with Content-Type: application/sdp")
        offer = (await request.read()).decode("utf-8", "replace")
        peer_id, answer = await egress.join(offer)
    except JoinRefused as refusal:
        log.info("join refused (%s): %s", refusal.code, refusal.message)
        return error_response(refusal.status, refusal.code, refusal.message)
    location = f"{request.path}/{peer_id}"
    return web.Response(status=201, text=answer, content_type="application/sdp", headers={"Location": location})


async def leave(request: web.Request) -> web.StreamResponse:
    try:
        egress = _egress(request)
    except JoinRefused as refusal:
        return error_response(refusal.status, refusal.code, refusal.message)
    if not await egress.leave(request.match_info["peer_id"]):
        return error_response(404, "peerNotFound", "no such peer in this session (it left or was closed)")
    return web.Response(status=204)


async def new_join_token(request: web.Request) -> web.Response:
    server = request.app[SERVER_KEY]
    connection_id = request.match_info["connection_id"]
    app_id = request.headers.get("X-App-ID", "")
    try:
        server.signer.verify(request.headers.get("X-Session-Key", ""), app_id)
    except TokenError as exc:
        return error_response(401, "sessionTokenInvalid", exc.message)
    egress = server.rtc.get(connection_id)
    if egress is None or egress.app_id != app_id:
        return error_response(404, "sessionNotFound", f"App ID {app_id!r} has no WebRTC egress session "
                              f"{connection_id!r}")
    token, expires = server.rtc.new_token(connection_id)
    return web.json_response({"joinToken": token, "expireAt": expires})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/v1/rtc/sessions/{connection_id}/whep", join)
    app.router.add_delete("/v1/rtc/sessions/{connection_id}/whep/{peer_id}", leave)
    app.router.add_post("/v1/rtc/sessions/{connection_id}/join-tokens", new_join_token)
