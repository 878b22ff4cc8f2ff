"""The protocol's HTTP error shape: ``{"errors": [{"status", "code", "message"}]}``, for every HTTP route."""

from __future__ import annotations

import asyncio
import json
import logging

from aiohttp import web

from .store import StoreUnavailable

log = logging.getLogger("facecast.server.http")


def error_response(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"errors": [{"status": status, "code": code, "message": message}]}, status=status)


_CODES = {400: "invalidArgument", 401: "unauthenticated", 403: "permissionDenied", 404: "notFound",
          405: "methodNotAllowed", 408: "requestTimeout", 413: "payloadTooLarge"}


async def read_json(request: web.Request, timeout_s: float, shape: str) -> object:
    """The request body parsed as JSON (None when empty), read within ``timeout_s``.

    A body that trickles in is answered 408; one that is not JSON — or nests deeper than the
    parser's recursion limit — is answered 400 saying ``shape`` is expected (never a 500).
    """
    try:
        raw = await asyncio.wait_for(request.read(), timeout_s)
    except TimeoutError:
        raise web.HTTPRequestTimeout(reason=f"the request body did not arrive within {timeout_s:g} s") from None
    try:
        return json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise web.HTTPBadRequest(reason=f"the body must be JSON: {shape}") from None


@web.middleware
async def json_errors(request: web.Request, handler):
    """Turn aiohttp's plain-text HTTP errors (unknown route, wrong method, body too large) into the JSON shape."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(exc.status, _CODES.get(exc.status, "httpError"), exc.reason)
    except StoreUnavailable as exc:
        log.warning("%s %s: %s", request.method, request.path, exc)
        response = error_response(503, "storeUnavailable", "the service's database is unreachable; retry shortly")
        response.headers["Retry-After"] = "1"
        return response
    except Exception:
        log.exception("unhandled error serving %s %s", request.method, request.path)
        return error_response(500, "internal", "internal server error")
