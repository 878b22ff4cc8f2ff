"""A cap on open HTTP connections, so a flood of idle sockets cannot use up the process's file descriptors.

aiohttp accepts every connection and has no limit of its own; past the file-descriptor limit,
``accept`` fails and asyncio logs a traceback per attempt. :class:`CappedSite` listens like
``web.TCPSite`` but answers connections over the cap with a 503 and closes them at once. Idle and
half-sent requests are closed by aiohttp's keep-alive timer (``Limits.request_timeout_s``), so an
attacker holds the cap for at most that long.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import resource
import time

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

log = logging.getLogger("facecast.server")

FD_RESERVE = 32  # descriptors kept free for the store, asset files and logs

_BUSY_BODY = json.dumps({"errors": [{"status": 503, "code": "tooManyConnections",
                                      "message": "the server has too many open connections; retry shortly"}]}).encode()
_BUSY = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n"
         b"Retry-After: 1\r\nContent-Length: " + str(len(_BUSY_BODY)).encode() + b"\r\n\r\n" + _BUSY_BODY)


def _open_descriptors() -> int:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:  # not Linux: assume a typical process
        return 64


def listen_backlog() -> int:
    """Connections asyncio may accept in one go (it accepts up to the backlog before any protocol
    runs, so the cap can only refuse them afterwards): small when descriptors are few."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return 128 if soft == resource.RLIM_INFINITY else max(4, min(128, soft // 16))


def connection_cap(configured: int) -> int:
    """``configured``, lowered to fit in the descriptors the process has left.

    Left for connections: the soft limit, minus what the process already holds (counted now, so
    call it when the server starts), a reserve for the store and asset files, and one accept burst.
    """
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return configured
    left = soft - _open_descriptors() - max(FD_RESERVE, soft // 8) - listen_backlog()
    return max(1, min(configured, left))


class MalformedRequestLog(logging.Filter):
    """Keeps aiohttp from logging a traceback per malformed request (any peer can send them as fast
    as it likes): one line per ``interval_s`` says how many were refused since the last line."""

    def __init__(self, interval_s: float = 10.0) -> None:
        super().__init__()
        self.interval_s = interval_s
        self._last = -interval_s
        self._count = 0

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if not isinstance(exc, HttpProcessingError):
            return True
        self._count += 1
        now = time.monotonic()
        if now - self._last < self.interval_s:
            return False
        record.msg, record.args, record.exc_info, record.exc_text = (
            "refused %d malformed HTTP request(s) (last: %s)", (self._count, str(exc).splitlines()[0]), None, None)
        record.levelno, record.levelname = logging.INFO, "INFO"
        self._last, self._count = now, 0
        return True


def quiet_malformed_requests() -> None:
    """Install :class:`MalformedRequestLog` on aiohttp's server logger (once per process)."""
    server_log = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, MalformedRequestLog) for f in server_log.filters):
        server_log.addFilter(MalformedRequestLog())


class _Refuse(asyncio.Protocol):
    """Says 503 and hangs up; never reads the request."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.write(_BUSY)  # type: ignore[attr-defined]
        transport.close()


class _CappedFactory:
    def __init__(self, server: web.Server, cap: int) -> None:
        self._server = server
        self.cap = cap
        self._warned = 0.0

    def __call__(self) -> asyncio.Protocol:
        if len(self._server.connections) >= self.cap:
            now = time.monotonic()
            if now - self._warned > 10:  # one line per burst, not one per refused socket
                self._warned = now
                log.warning("refusing connections: %d are open (the cap); see Limits.max_connections", self.cap)
            return _Refuse()
        return self._server()


class CappedSite(web.BaseSite):
    """``web.TCPSite`` with a cap on concurrently open connections."""

    __slots__ = ("_host", "_port", "_cap")

    def __init__(self, runner: web.BaseRunner, host: str, port: int, max_connections: int) -> None:
        super().__init__(runner, backlog=listen_backlog())
        self._host, self._port, self._cap = host, port, max_connections

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self._port}"

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.sockets[0].getsockname()[1]

    async def start(self) -> None:
        await super().start()
        quiet_malformed_requests()
        server = self._runner.server
        assert server is not None
        self._server = await asyncio.get_running_loop().create_server(
            _CappedFactory(server, self._cap), self._host, self._port, backlog=self._backlog, reuse_address=True)
