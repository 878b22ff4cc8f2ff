"""The protocol's HTTP error shape: ``{"errors": [{"status", "code", "message"}]}``, for every HTTP route."""

from __future__ import annotations

import logging

from aiohttp import web

log = logging.getLogger("facecast.server.http")


def error_response(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"errors": [{"status": status, "code": code, "message": message}]}, status=status)


_CODES = {400: "invalidArgument", 401: "unauthenticated", 403: "permissionDenied", 404: "notFound",
          405: "methodNotAllowed", 413: "payloadTooLarge"}


@web.middleware
async def json_errors(request: web.Request, handler):
    """Turn aiohttp's plain-text HTTP errors (unknown route, wrong method, body too large) into the JSON shape."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(exc.status, _CODES.get(exc.status, "httpError"), exc.reason)
    except Exception:
        log.exception("unhandled error serving %s %s", request.method, request.path)
        return error_response(500, "internal", "internal server error")
