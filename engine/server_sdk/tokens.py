"""API key → session token through the console API, with a process-wide cache refreshed before expiry.

A cached token is reused by later sessions of the same key, app and console until
:data:`REFRESH_MARGIN` before it expires; then the next session fetches a fresh one.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone

import aiohttp

from . import classify
from .errors import AvatarSDKErrorCode, SessionTokenError

TOKEN_PATH = "/session-tokens"
TIMEOUT_S = 10.0
REFRESH_MARGIN = timedelta(minutes=1)

_cache: dict[tuple[str, str, str], tuple[str, datetime]] = {}


def cached(api_key: str, app_id: str, console: str) -> str | None:
    entry = _cache.get((api_key, app_id, console))
    if entry is None:
        return None
    if datetime.now(timezone.utc) >= entry[1] - REFRESH_MARGIN:
        del _cache[(api_key, app_id, console)]
        return None
    return entry[0]


def clear_cache() -> None:
    _cache.clear()


async def session_token(api_key: str, app_id: str, console: str, expire_at: datetime) -> str:
    """A session token valid until ``expire_at``: from the cache while fresh, else from the console API."""
    if not api_key:
        raise SessionTokenError("api_key is missing: create one with `facecast keys create APP_ID`",
                                code=AvatarSDKErrorCode.apiKeyInvalid)
    token = cached(api_key, app_id, console)
    if token is not None:
        return token
    token = await fetch(api_key, console, expire_at)
    _cache[(api_key, app_id, console)] = (token, expire_at)
    return token


async def fetch(api_key: str, console: str, expire_at: datetime) -> str:
    url = console.rstrip("/") + TOKEN_PATH
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S)) as http:
            async with http.post(url, json={"expireAt": int(expire_at.timestamp())},
                                 headers={"X-Api-Key": api_key}) as response:
                status, text = response.status, await response.text()
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        raise SessionTokenError(f"cannot reach the console API at {url}: {exc or type(exc).__name__}",
                                code=AvatarSDKErrorCode.connectionFailed) from None
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = None
    if status != 200:
        first = (body or {}).get("errors", [{}])[0] if isinstance(body, dict) else {}
        code = first.get("code") if isinstance(first, dict) else None
        detail = first.get("message") if isinstance(first, dict) else None
        raise SessionTokenError(f"the console API refused the session token (HTTP {status})"
                                + (f": {detail}" if detail else ""), code=classify.console_code(status, code),
                                http_status=status, server_code=code, server_detail=detail, raw_body=text)
    token = body.get("sessionToken") if isinstance(body, dict) else None
    if not token:
        raise SessionTokenError("the console API answered without a sessionToken",
                                code=AvatarSDKErrorCode.protocolError, raw_body=text)
    return token
