"""Console API: ``POST /v1/console/session-tokens`` exchanges an API key for a session token."""

from __future__ import annotations

import logging
import time

from aiohttp import web

from .context import SERVER_KEY
from .http_errors import error_response, read_json
from .ratelimit import client_address, retry_after_header
from .store import ApiKeyInfo
from .tokens import MAX_LIFETIME_S

log = logging.getLogger("facecast.server.console")


def _rate_limited(wait_s: float, what: str) -> web.Response:
    response = error_response(429, "rateLimited", f"too many console requests from this {what}; "
                              f"retry in {wait_s:.1f} s")
    response.headers.update(retry_after_header(wait_s))
    return response


async def authenticated_app(request: web.Request) -> tuple[ApiKeyInfo | None, web.Response | None]:
    """The request's active API key, or the error response to send: rate limited per client address
    (before the key is looked at) and per key (after), 401 for a missing or unknown key."""
    server = request.app[SERVER_KEY]
    limits = server.rate_limits
    address = client_address(request, limits.trusted_proxies)
    wait = await server.rate_limiter.hit(f"addr:{address}", limits.per_address_rps, limits.per_address_burst)
    if wait:
        return None, _rate_limited(wait, "address")
    api_key = request.headers.get("X-Api-Key", "")
    if not api_key:
        return None, error_response(401, "apiKeyMissing", "send your API key in the X-Api-Key header")
    key = await server.store.authenticate_key(api_key)
    if key is None:
        # Never echo or log the key itself.
        return None, error_response(401, "apiKeyInvalid", "the API key is unknown or revoked")
    wait = await server.rate_limiter.hit(f"key:{key.key_id}", limits.per_key_rps, limits.per_key_burst)
    if wait:
        return None, _rate_limited(wait, "API key")
    return key, None


async def create_session_token(request: web.Request) -> web.Response:
    server = request.app[SERVER_KEY]
    key, refusal = await authenticated_app(request)
    if refusal is not None:
        return refusal
    app_id = key.app_id
    body = await read_json(request, server.limits.request_timeout_s, '{"expireAt": <unix seconds>}')
    expire_at = body.get("expireAt") if isinstance(body, dict) else None
    if isinstance(expire_at, bool) or not isinstance(expire_at, (int, float)) or expire_at != expire_at:
        return error_response(400, "invalidArgument", 'the body needs "expireAt": a number of unix seconds')
    now = time.time()
    if isinstance(expire_at, int) and abs(expire_at) > 2 * MAX_LIFETIME_S + now:
        # A 400-digit integer would overflow the float arithmetic below; it is far outside the window anyway.
        return error_response(400, "expireAtInPast" if expire_at < 0 else "expireAtTooFar",
                              f"expireAt must be a unix time within the next 24 h ({MAX_LIFETIME_S} s)")
    if expire_at <= now:
        return error_response(400, "expireAtInPast", f"expireAt {expire_at} is not in the future (now {int(now)})")
    if expire_at - now > MAX_LIFETIME_S:
        return error_response(400, "expireAtTooFar", f"expireAt may be at most 24 h ({MAX_LIFETIME_S} s) away")
    try:
        token = server.signer.issue(app_id, int(expire_at), now=now, key_id=key.key_id)
    except ValueError as exc:  # a fraction of a second from now rounds down to now
        return error_response(400, "expireAtInPast", str(exc))
    log.info("issued a session token for app %s, valid %d s", app_id, int(expire_at - now))
    return web.json_response({"sessionToken": token})
