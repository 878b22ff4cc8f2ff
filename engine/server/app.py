"""``MotionServer``: the embedded Motion Server as one aiohttp application (HTTP and WebSocket)."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from pathlib import Path

from aiohttp import web

from ..config import Endpoints
from ..plugins import get_plugin_manager
from ..wire.messages import server_error
from . import assets, console, ingress
from .catalog import AvatarCatalog
from .codes import CloseCode, ServerErrorCode
from .context import SERVER_KEY
from .http_errors import json_errors
from .limits import Limits
from .store import Store, default_data_dir
from .tokens import TokenSigner

log = logging.getLogger("facecast.server")

DEFAULT_HOST = "127.0.0.1"


class MotionServer:
    """Console API, ingress WebSocket and asset endpoint on one port.

    ``async with MotionServer(data_dir=tmp) as server:`` starts it on an ephemeral loopback
    port; ``server.base_url`` / ``server.endpoints`` say where. ``stop()`` closes every session
    (``SERVER_ERROR`` 14 and close code 1001), the listening socket and the store.
    """

    def __init__(self, *, data_dir: Path | str | None = None, store: Store | None = None,
                 catalog: AvatarCatalog | None = None, limits: Limits | None = None,
                 motion_generator: str = "procedural", seed: int = 0) -> None:
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
        self._owns_store = store is None
        self.store = store if store is not None else Store(self.data_dir / "server.sqlite3")
        self.catalog = catalog if catalog is not None else AvatarCatalog.default(self.data_dir)
        self.limits = limits or Limits()
        self.signer = TokenSigner(self.store.token_secret())
        self.generator_factory = get_plugin_manager().get("motion_generators", motion_generator).factory
        self._seed = seed
        self._sessions: dict[str, set] = defaultdict(set)
        self._runner: web.AppRunner | None = None
        self.host = DEFAULT_HOST
        self.port = 0

    # -- aiohttp application ----------------------------------------------------------------

    def make_app(self) -> web.Application:
        app = web.Application(middlewares=[json_errors], client_max_size=64 * 1024)
        app[SERVER_KEY] = self
        app.router.add_post("/v1/console/session-tokens", console.create_session_token)
        app.router.add_get("/v2/driveningress/websocket", ingress.ingress_websocket)
        app.router.add_get("/v1/assets/avatars/{avatar_id}", assets.avatar_listing)
        app.router.add_get("/v1/assets/avatars/{avatar_id}/files/{name:.+}", assets.avatar_file)
        app.on_shutdown.append(self._close_sessions)
        return app

    async def start(self, host: str = DEFAULT_HOST, port: int = 0) -> None:
        """Listen on ``host:port`` (port 0 picks a free one; read it back from ``self.port``)."""
        if self._runner is not None:
            raise RuntimeError("the Motion Server is already running")
        runner = web.AppRunner(self.make_app(), access_log=None, handle_signals=False, shutdown_timeout=5.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port, reuse_address=True)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        self.host = host
        self.port = site._server.sockets[0].getsockname()[1]
        log.info("Motion Server listening on %s", self.base_url)

    async def stop(self) -> None:
        """Close every session and socket and the store; idempotent."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
        if self._owns_store:
            self.store.close()

    async def __aenter__(self) -> "MotionServer":
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def endpoints(self) -> Endpoints:
        return Endpoints.for_base(self.base_url)

    # -- sessions -----------------------------------------------------------------------------

    def session_count(self, app_id: str | None = None) -> int:
        if app_id is not None:
            return len(self._sessions.get(app_id, ()))
        return sum(len(s) for s in self._sessions.values())

    def add_session(self, session) -> None:
        self._sessions[session.app_id].add(session)

    def remove_session(self, session) -> None:
        group = self._sessions.get(session.app_id)
        if group is not None:
            group.discard(session)
            if not group:
                del self._sessions[session.app_id]

    def next_seed(self) -> int:
        """Each session's generator gets its own seed, so avatars side by side do not blink in step."""
        self._seed += 1
        return self._seed

    async def _close_sessions(self, app: web.Application) -> None:
        sessions = [s for group in self._sessions.values() for s in group]
        if sessions:
            await asyncio.gather(*(self._going_away(s) for s in sessions), return_exceptions=True)

    @staticmethod
    async def _going_away(session) -> None:
        if session.ws.closed:
            return
        try:
            await session.ws.send_bytes(server_error(int(ServerErrorCode.UNAVAILABLE), "the server is shutting down",
                                                     connection_id=session.connection_id))
        except ConnectionError:
            pass
        await session.ws.close(code=int(CloseCode.GOING_AWAY), message=b"server shutting down")
