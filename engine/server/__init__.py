"""The embedded Motion Server: console API, ingress WebSocket, avatar assets, apps and keys (protocol.md).

One aiohttp application on one port (``facecast serve``, or ``MotionServer`` in-process):

- ``POST /v1/console/session-tokens`` — header ``X-Api-Key``, body ``{"expireAt": unix seconds}``
  (in the future, at most 24 h away) → ``{"sessionToken": ...}``; errors as
  ``{"errors": [{"status", "code", "message"}]}`` (``apiKeyMissing``, ``apiKeyInvalid``,
  ``invalidArgument``, ``expireAtInPast``, ``expireAtTooFar``).
- ``GET /v2/driveningress/websocket?id=<avatar>`` — ``X-App-ID`` + ``X-Session-Key`` headers or
  ``appId`` + ``sessionKey`` query parameters; then the exchange of protocol.md. ``SERVER_ERROR``
  codes are listed in :mod:`engine.server.codes`; a refusal is a ``SERVER_ERROR`` followed by
  close code 1008, a token expiring mid-session closes with 4010, shutdown with 1001.
- ``GET /v1/assets/avatars/<id>?appId=<app>`` and the files it lists — 404 unless the app has a
  grant for the avatar.

State lives in a store (:mod:`engine.server.store`): ``<data dir>/server.sqlite3`` by default
(``FACECAST_DATA_DIR``, else ``~/.local/share/facecast``; 0700 / 0600), or PostgreSQL shared by
several processes: apps, SHA-256 hashes of API keys, avatar grants and metadata, quotas, usage,
revoked tokens and the token signing secret. ``facecast apps`` / ``facecast keys`` edit it while
the server runs; a revoked key mints no new tokens and its tokens open no new sessions, and live
sessions of a revoked key or token end within the next upkeep pass (0.5 s). With Redis, session
leases and console rate limits are shared by every process (``/healthz``, ``/readyz``, ``/metrics``).
Avatars are served from ``<data dir>/avatars/<id>/`` and the packages bundled with the engine.
Limits (message size, audio per round, session length, idle time, sessions per app) are
:class:`Limits`; motion comes from the motion-generator plugin named at start (``phoneme`` by default).
"""

from __future__ import annotations

from .app import MotionServer
from .codes import CloseCode, ServerErrorCode
from .limits import Limits
from .store import Store, default_data_dir, open_store

__all__ = ["CloseCode", "Limits", "MotionServer", "ServerErrorCode", "Store", "default_data_dir", "open_store"]
