"""Prometheus metrics of one server process, served at ``GET /metrics`` (text exposition format).

Each :class:`MotionServer` has its own registry, so several servers in one process (tests, the
demo) never collide. A balancer scrapes every process; sums across processes are the service's.
"""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from .context import SERVER_KEY

LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0)


class ServerMetrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.active_sessions = Gauge("facecast_active_sessions", "Open ingress sessions in this process",
                                     registry=r)
        self.sessions = Counter("facecast_sessions_opened", "Ingress sessions admitted", registry=r)
        self.rounds = Counter("facecast_rounds", "Audio rounds (req_id) started", registry=r)
        self.keyframes = Counter("facecast_keyframes", "Keyframes sent", registry=r)
        self.audio_seconds = Counter("facecast_audio_seconds", "Seconds of audio received", registry=r)
        self.errors = Counter("facecast_errors", "SERVER_ERROR messages sent (refusals included), by code",
                              ["code"], registry=r)
        self.keyframe_latency = Histogram(
            "facecast_keyframe_latency_seconds",
            "From an audio message read to the keyframes it completed being written to the socket",
            buckets=LATENCY_BUCKETS, registry=r)
        self.console_requests = Counter("facecast_console_requests", "Console API requests, by HTTP status",
                                        ["status"], registry=r)
        self.console_latency = Histogram("facecast_console_request_seconds", "Console API request duration",
                                         buckets=LATENCY_BUCKETS, registry=r)


async def metrics_endpoint(request: web.Request) -> web.Response:
    server = request.app[SERVER_KEY]
    return web.Response(body=generate_latest(server.metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})


@web.middleware
async def console_metrics(request: web.Request, handler):
    """Count console API requests by status and time them (other routes are not counted here)."""
    if not request.path.startswith("/v1/console/"):
        return await handler(request)
    server = request.app[SERVER_KEY]
    with server.metrics.console_latency.time():
        response = await handler(request)
    server.metrics.console_requests.labels(str(response.status)).inc()
    return response
