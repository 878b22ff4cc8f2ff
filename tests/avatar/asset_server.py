"""A real aiohttp asset server on 127.0.0.1 serving avatar packages the way the embedded server does,
with switches to misbehave (slow, truncated or corrupted files) and per-path request counts."""

from __future__ import annotations

import asyncio
import collections
import json
from pathlib import Path

from aiohttp import web

from engine.avatar.listing import asset_listing


class AssetServer:
    def __init__(self) -> None:
        self.packages: dict[str, Path] = {}
        self.requests: collections.Counter[str] = collections.Counter()
        self.app_ids: list[str] = []
        self.slow: float = 0.0  # seconds between 16 KiB chunks
        self.truncate: set[str] = set()  # file names served short
        self.corrupt: set[str] = set()  # file names served with one byte flipped
        self.drop: set[str] = set()  # file names whose connection is cut halfway (full Content-Length declared)
        self.listing_override: tuple[int, bytes] | None = None
        self.listing_delay: float = 0.0
        self.trickle_listing = False
        self.listing_times: list[float] = []  # loop time of each listing request
        self.file_done_times: list[float] = []  # loop time each file finished streaming
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def asset_requests(self) -> int:
        return sum(n for path, n in self.requests.items() if "/files/" in path)

    async def start(self) -> "AssetServer":
        app = web.Application()
        app.router.add_get("/v1/assets/avatars/{id}", self._listing)
        app.router.add_get("/v1/assets/files/{id}/{name}", self._file)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _listing(self, request: web.Request) -> web.Response:
        self.requests[request.path] += 1
        self.listing_times.append(asyncio.get_running_loop().time())
        self.app_ids.append(request.query.get("appId", ""))
        if self.listing_delay:
            await asyncio.sleep(self.listing_delay)
        if self.listing_override is not None:
            status, body = self.listing_override
            return web.Response(status=status, body=body, content_type="application/json")
        avatar_id = request.match_info["id"]
        if avatar_id not in self.packages:
            body = {"errors": [{"status": 404, "code": "avatarIDUnrecognized", "message": f"no avatar {avatar_id}"}]}
            return web.json_response(body, status=404)
        # Relative URLs, as a server behind a proxy would answer.
        listing = asset_listing(self.packages[avatar_id], f"../files/{avatar_id}")
        if not self.trickle_listing:
            return web.json_response(listing)
        body = json.dumps(listing).encode()
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        await resp.prepare(request)
        for start in range(0, len(body), 100):  # arrives in many small pieces
            await resp.write(body[start:start + 100])
            await asyncio.sleep(0.002)
        await resp.write_eof()
        return resp

    async def _file(self, request: web.Request) -> web.StreamResponse:
        self.requests[request.path] += 1
        name = request.match_info["name"]
        data = (self.packages[request.match_info["id"]] / name).read_bytes()
        if name in self.truncate:
            data = data[: len(data) // 2]
        if name in self.corrupt:
            data = data[:100] + bytes([data[100] ^ 0xFF]) + data[101:]
        resp = web.StreamResponse()
        resp.content_length = len(data)
        await resp.prepare(request)
        if name in self.drop:
            await resp.write(data[: len(data) // 2])
            request.transport.close()  # the network goes away mid-file
            return resp
        for start in range(0, len(data), 16384):
            await resp.write(data[start:start + 16384])
            if self.slow:
                await asyncio.sleep(self.slow)
        await resp.write_eof()
        self.file_done_times.append(asyncio.get_running_loop().time())
        return resp


def dumps(obj) -> bytes:
    return json.dumps(obj).encode()
