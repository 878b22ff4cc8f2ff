"""Console API: ``POST /v1/console/session-tokens`` exchanges an API key for a session token."""

from __future__ import annotations

import json
import logging
import time

from aiohttp import web

from .context import SERVER_KEY
from .http_errors import error_response
from .tokens import MAX_LIFETIME_S

log = logging.getLogger("facecast.server.console")


async def create_session_token(request: web.Request) -> web.Response:
    server = request.app[SERVER_KEY]
    api_key = request.headers.get("X-Api-Key", "")
    if not api_key:
        return error_response(401, "apiKeyMissing", "send your API key in the X-Api-Key header")
    app_id = server.store.app_for_key(api_key)
    if app_id is None:
        # Never echo or log the key itself.
        return error_response(401, "apiKeyInvalid", "the API key is unknown or revoked")
    try:
        body = json.loads(await request.read() or b"null")
    except (ValueError, UnicodeDecodeError):
        return error_response(400, "invalidArgument", 'the body must be JSON: {"expireAt": <unix seconds>}')
    expire_at = body.get("expireAt") if isinstance(body, dict) else None
    if isinstance(expire_at, bool) or not isinstance(expire_at, (int, float)) or expire_at != expire_at:
        return error_response(400, "invalidArgument", 'the body needs "expireAt": a number of unix seconds')
    now = time.time()
    if expire_at <= now:
        return error_response(400, "expireAtInPast", f"expireAt {expire_at} is not in the future (now {int(now)})")
    if expire_at - now > MAX_LIFETIME_S:
        return error_response(400, "expireAtTooFar", f"expireAt may be at most 24 h ({MAX_LIFETIME_S} s) away")
    try:
        token = server.signer.issue(app_id, int(expire_at), now=now)
    except ValueError as exc:  # a fraction of a second from now rounds down to now
        return error_response(400, "expireAtInPast", str(exc))
    log.info("issued a session token for app %s, valid %d s", app_id, int(expire_at - now))
    return web.json_response({"sessionToken": token})
