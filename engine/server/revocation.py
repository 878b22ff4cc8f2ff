"""``POST /v1/console/revocations``: revoke an API key or one session token before it expires.

Header ``X-Api-Key`` (any active key of the same app), JSON body ``{"keyId": "<key id>"}`` or
``{"sessionToken": "<token>"}`` → 200 ``{"revoked": "<key id or token id>"}``. The revocation is
written to the store; every process refuses the key's or token's new sessions at once and ends
its live sessions on its next upkeep pass (≤ 0.5 s by default).
"""

from __future__ import annotations

import json
import logging

from aiohttp import web

from .console import authenticated_app
from .context import SERVER_KEY
from .http_errors import error_response
from .tokens import TokenError

log = logging.getLogger("facecast.server.console")


async def revoke(request: web.Request) -> web.Response:
    server = request.app[SERVER_KEY]
    key, refusal = await authenticated_app(request)
    if refusal is not None:
        return refusal
    try:
        body = json.loads(await request.read() or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError):
        body = None
    if not isinstance(body, dict) or not (isinstance(body.get("keyId"), str) or
                                          isinstance(body.get("sessionToken"), str)):
        return error_response(400, "invalidArgument", 'the body must be JSON {"keyId": "<key id>"} or '
                              '{"sessionToken": "<token>"}')
    if isinstance(body.get("keyId"), str):
        key_id = body["keyId"]
        if key_id not in {k.key_id for k in await server.store.list_keys(key.app_id) if k.revoked_at is None}:
            return error_response(404, "keyNotFound", f"this app has no active API key with id {key_id!r}")
        await server.store.revoke_key(key_id)
        log.info("app %s revoked API key %s", key.app_id, key_id)
        return web.json_response({"revoked": key_id})
    try:
        claims = server.signer.verify(body["sessionToken"], key.app_id)
    except TokenError as exc:
        return error_response(400, "invalidArgument", f"cannot revoke this token: {exc.message}")
    await server.store.revoke_token(claims.token_id, claims.app_id, claims.expires_at)
    log.info("app %s revoked session token %s", key.app_id, claims.token_id)
    return web.json_response({"revoked": claims.token_id})
