"""``GET /healthz`` (the process is up) and ``GET /readyz`` (it can serve a new session now).

A balancer routes new connections by ``/readyz``: 503 while draining or while the store or
Redis does not answer, so a process that lost its database stops getting sessions it would refuse.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from .context import SERVER_KEY

CHECK_TIMEOUT_S = 2.0


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    server = request.app[SERVER_KEY]
    if server.draining:
        return web.json_response({"status": "draining"}, status=503)
    try:
        await asyncio.wait_for(server.check_dependencies(), CHECK_TIMEOUT_S)
    except Exception as exc:  # any failure of a dependency means "not ready", with the reason
        return web.json_response({"status": "unavailable", "reason": f"{exc.__class__.__name__}: {exc}"[:300]},
                                 status=503)
    return web.json_response({"status": "ready", "sessions": server.session_count()})
