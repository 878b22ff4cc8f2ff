"""The WHEP-style join: POST an SDP offer with the join token, get the answer; DELETE the resource to leave.

Refusals map onto the SDK's error codes as the other transports map theirs: a server that cannot
be reached is ``networkLayerNotAvailable``; a bad or foreign token ``sessionTokenInvalid``; an
expired one ``sessionTokenExpired``; a full session ``concurrentLimitExceeded``.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urljoin

import aiohttp

from engine.kit import AvatarError, ErrorCode

TIMEOUT_S = 10.0

_CODES = {
    "joinTokenMissing": ErrorCode.sessionTokenInvalid,
    "joinTokenInvalid": ErrorCode.sessionTokenInvalid,
    "joinTokenWrongSession": ErrorCode.sessionTokenInvalid,
    "joinTokenExpired": ErrorCode.sessionTokenExpired,
    "joinLimitExceeded": ErrorCode.concurrentLimitExceeded,
    "peerLimitExceeded": ErrorCode.concurrentLimitExceeded,
    "sessionNotFound": ErrorCode.sessionTimeout,
}


async def post_offer(join_url: str, join_token: str, offer_sdp: str) -> tuple[str, str | None]:
    """``(answer SDP, the peer resource URL)``; ``AvatarError`` for a refusal or an unreachable server."""
    headers = {"Authorization": f"Bearer {join_token}", "Content-Type": "application/sdp"}
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S)) as http:
            async with http.post(join_url, data=offer_sdp.encode(), headers=headers) as response:
                status, body = response.status, await response.text()
                location = response.headers.get("Location")
                is_json = response.content_type == "application/json"
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        raise AvatarError(ErrorCode.networkLayerNotAvailable, f"cannot reach the RTC join URL {join_url}: "
                          f"{exc or type(exc).__name__}") from None
    if status == 201:
        return body, urljoin(join_url, location) if location else None
    code, message = "", body[:300]
    if is_json:
        try:
            first = json.loads(body)["errors"][0]
            code, message = first.get("code", ""), first.get("message", message)
        except (ValueError, KeyError, IndexError, TypeError):
            pass
    raise AvatarError(_CODES.get(code, ErrorCode.serverError), f"the Motion Server refused the RTC join "
                      f"(HTTP {status} {code}): {message}")


async def delete(resource_url: str, join_token: str) -> None:
    """Leave; best effort (the server also notices when the peer connection closes)."""
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2.0)) as http:
            async with http.delete(resource_url, headers={"Authorization": f"Bearer {join_token}"}):
                pass
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
        pass
