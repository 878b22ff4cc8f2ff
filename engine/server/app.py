"""``MotionServer``: the embedded Motion Server as one aiohttp application (HTTP and WebSocket)."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from pathlib import Path

from aiohttp import web

from ..config import DEFAULT_MOTION_GENERATOR, Endpoints
from ..plugins import get_plugin_manager
from . import assets, console, health, ingress, revocation
from .catalog import AvatarCatalog
from .connections import CappedSite, connection_cap
from .codes import CloseCode, ServerErrorCode
from .context import SERVER_KEY
from .http_errors import json_errors
from .leases import Leases, LocalLeases
from .limits import Limits
from .metering import Meter
from .metrics import ServerMetrics, console_metrics, metrics_endpoint
from .ratelimit import LocalRateLimiter, RateLimiter, RateLimits
from .store import Store, default_data_dir, open_store
from .tokens import TokenSigner
from .rtc import RtcService, signalling as rtc_signalling
from .threads import in_own_thread
from .video import VideoService, VideoSettings
from .web import PageAccess
from .web import page as web_page
from .upkeep import end_session, upkeep_loop

log = logging.getLogger("facecast.server")


def warm_up(factory) -> None:
    """Run the motion generator once before listening: numba compiles (or loads from its cache) the
    generator's kernels here, off the event loop, not inside the first session while its client waits."""
    import numpy as np

    try:
        generator = factory(16000, 50, 0)
        generator.feed(np.zeros(3200, np.int16))
        generator.finish()
    except Exception:  # the sessions will report it; the server still serves assets and tokens
        log.warning("the motion generator failed its warm-up run", exc_info=True)

DEFAULT_HOST = "127.0.0.1"


class MotionServer:
    """Console API, ingress WebSocket and asset endpoint on one port.

    ``async with MotionServer(data_dir=tmp) as server:`` starts it on an ephemeral loopback
    port; ``server.base_url`` / ``server.endpoints`` say where. ``stop()`` closes every session
    (``SERVER_ERROR`` 14 and close code 1001), the listening socket and the store; ``drain()``
    first lets running rounds finish.

    One process alone keeps its state in ``<data dir>/server.sqlite3`` and counts sessions and
    rate limits in memory. Several processes behind a balancer share ``store_url``
    (``postgresql://…``) and ``redis_url`` (leases and rate limits); any of them can then serve
    any session, and a process killed mid-session frees its leases within ``lease_ttl_s``.
    """

    def __init__(self, *, data_dir: Path | str | None = None, store: Store | None = None,
                 catalog: AvatarCatalog | None = None, limits: Limits | None = None,
                 motion_generator: str = DEFAULT_MOTION_GENERATOR, seed: int = 0, store_url: str | None = None,
                 redis_url: str | None = None, rate_limits: RateLimits | None = None,
                 upkeep_interval_s: float = 0.5, lease_ttl_s: float = 3.0,
                 video: VideoSettings | None = None, page: PageAccess | None = None) -> None:
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
        self._owns_store = store is None
        self.store = store if store is not None else open_store(store_url, self.data_dir)
        self.catalog = catalog if catalog is not None else AvatarCatalog.default(self.data_dir)
        self.limits = limits or Limits()
        self.rate_limits = rate_limits or RateLimits()
        self.signer: TokenSigner | None = None  # made in start(), from the store's secret
        self.generator_factory = get_plugin_manager().get("motion_generators", motion_generator).factory
        self.metrics = ServerMetrics()
        self.meter = Meter(self.store)
        self.leases: Leases = LocalLeases()
        self.rate_limiter: RateLimiter = LocalRateLimiter()
        self.draining = False
        self._redis_url = redis_url
        self._redis = None
        self._upkeep_interval_s = upkeep_interval_s
        self._lease_ttl_s = lease_ttl_s
        self._upkeep: asyncio.Task | None = None
        self._seed = seed
        self._sessions: dict[str, set] = defaultdict(set)
        self._claims: dict = {}  # session -> the token claims it was admitted with
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self.host = DEFAULT_HOST
        self.port = 0
        self.rtc = RtcService(lambda: self.base_url)  # WebRTC egress of sessions that ask for it
        self.video = VideoService(self.rtc, self.catalog, video)  # server-rendered video, on the same joins
        self.page = page  # the browser page's app and key (None: no page)

    # -- aiohttp application ----------------------------------------------------------------

    def make_app(self) -> web.Application:
        app = web.Application(middlewares=[json_errors, console_metrics], client_max_size=64 * 1024)
        app[SERVER_KEY] = self
        app.router.add_post("/v1/console/session-tokens", console.create_session_token)
        app.router.add_post("/v1/console/revocations", revocation.revoke)
        app.router.add_get("/healthz", health.healthz)
        app.router.add_get("/readyz", health.readyz)
        app.router.add_get("/metrics", metrics_endpoint)
        app.router.add_get("/v2/driveningress/websocket", ingress.ingress_websocket)
        rtc_signalling.add_routes(app)
        web_page.add_routes(app)
        app.router.add_get("/v1/assets/avatars/{avatar_id}", assets.avatar_listing)
        app.router.add_get("/v1/assets/avatars/{avatar_id}/files/{name:.+}", assets.avatar_file)
        app.on_shutdown.append(self._close_sessions)
        return app

    async def start(self, host: str = DEFAULT_HOST, port: int = 0) -> None:
        """Listen on ``host:port`` (port 0 picks a free one; read it back from ``self.port``)."""
        if self._runner is not None:
            raise RuntimeError("the Motion Server is already running")
        await self._open_state()
        await in_own_thread(warm_up, self.generator_factory)
        # keepalive_timeout also closes a connection that has not sent a whole request by then
        # (aiohttp arms it on connect), so half-open sockets cannot pile up.
        runner = web.AppRunner(self.make_app(), access_log=None, handle_signals=False, shutdown_timeout=5.0,
                               keepalive_timeout=self.limits.request_timeout_s)
        await runner.setup()
        site = CappedSite(runner, host, port, connection_cap(self.limits.max_connections))
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            await self._close_state()
            raise
        self._runner, self._site = runner, site
        self.host = host
        self.port = site._server.sockets[0].getsockname()[1]
        self._upkeep = asyncio.create_task(upkeep_loop(self, self._upkeep_interval_s), name="motion-server-upkeep")
        log.info("Motion Server listening on %s", self.base_url)

    async def _open_state(self) -> None:
        await self.store.open()
        self.signer = TokenSigner(await self.store.token_secret())
        if self._redis_url and self._redis is None:
            from .redis_live import RedisLeases, RedisRateLimiter, connect  # redis is needed only for a cluster

            self._redis = connect(self._redis_url)
            await self._redis.ping()
            self.leases = RedisLeases(self._redis, self._lease_ttl_s)
            self.rate_limiter = RedisRateLimiter(self._redis)

    async def _close_state(self) -> None:
        await self.leases.close()
        await self.rate_limiter.close()
        self._redis = None
        if self._owns_store:
            await self.store.close()

    async def check_dependencies(self) -> None:
        """Return when the store (and Redis, when used) answer; raise otherwise (for ``/readyz``)."""
        await self.store.ping()
        if self._redis is not None:
            await self._redis.ping()

    async def stop(self) -> None:
        """Close every session and socket, flush metered usage, close Redis and the store; idempotent."""
        if self._upkeep is not None:
            self._upkeep.cancel()
            self._upkeep = None
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
            try:
                await self.meter.flush(set())
            except Exception:
                log.exception("final usage flush failed")
            await self._close_state()

    async def drain(self, timeout_s: float) -> None:
        """Graceful stop: refuse new sessions, let running rounds finish (up to ``timeout_s``), then stop.

        ``/readyz`` answers 503 and the listening socket closes at once, so the balancer sends new
        sessions elsewhere; a session between rounds closes now, one in a round closes when the
        round's last keyframe is out (``SERVER_ERROR`` 14, close code 1001: reconnect elsewhere).
        """
        self.draining = True
        if self._site is not None and self._site._server is not None:
            self._site._server.close()
        idle = [s for s in self.live_sessions() if not s.busy]
        await asyncio.gather(*(end_session(s, ServerErrorCode.UNAVAILABLE, "the server is draining; reconnect",
                                           CloseCode.GOING_AWAY) for s in idle), return_exceptions=True)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while self.session_count() and loop.time() < deadline:
            await asyncio.sleep(0.05)
        await self.stop()

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

    def add_session(self, session, claims=None) -> None:
        self._sessions[session.app_id].add(session)
        self._claims[session] = claims
        self.metrics.active_sessions.inc()

    def live_sessions(self) -> dict:
        """Every open session of this process, with the token claims it was admitted with."""
        return dict(self._claims)

    def remove_session(self, session) -> None:
        if self._claims.pop(session, False) is not False:
            self.metrics.active_sessions.dec()
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
        await end_session(session, ServerErrorCode.UNAVAILABLE, "the server is shutting down", CloseCode.GOING_AWAY)
