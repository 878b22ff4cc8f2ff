"""The real embedded Motion Server in a temporary data directory on 127.0.0.1, for the transport suite."""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path

import aiohttp

AVATAR = "conformance-head"
EXPRESSIONS = 50


class ServerHandle:
    """A running server with one provisioned app, API key and granted avatar; can go away and come back."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.server = None
        self.port = 0
        self.app_id = ""
        self.api_key = ""

    async def start(self) -> None:
        from engine.server import MotionServer
        from engine.server.provision import provision_if_empty

        # The built-in generator: cheap, and its 25 keyframes per second are what the checks count.
        self.server = MotionServer(data_dir=self.data_dir, motion_generator="procedural")
        setup = await provision_if_empty(self.server.store)
        if setup is not None:
            self.app_id, self.api_key = setup.app_id, setup.api_key
            await self.server.store.grant(setup.app_id, AVATAR)
        await self.server.start("127.0.0.1", self.port)
        self.port = self.server.port

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()

    @property
    def endpoints(self):
        return self.server.endpoints

    def session_count(self) -> int:
        return self.server.session_count()

    async def token(self, ttl_s: float = 600) -> str:
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{self.server.base_url}/v1/console/session-tokens",
                                 headers={"X-Api-Key": self.api_key},
                                 json={"expireAt": int(time.time() + ttl_s)}) as resp:
                assert resp.status == 200, await resp.text()
                return (await resp.json())["sessionToken"]


@contextlib.asynccontextmanager
async def motion_server(tmp_path: Path):
    data = tmp_path / "motion-server"
    package = data / "avatars" / AVATAR
    package.mkdir(parents=True, exist_ok=True)
    (package / "manifest.json").write_text(json.dumps({"id": AVATAR, "expression_count": EXPRESSIONS}))
    handle = ServerHandle(data)
    await handle.start()
    try:
        yield handle
    finally:
        await handle.stop()
