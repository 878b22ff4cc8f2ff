"""The aiohttp application key under which handlers find their ``MotionServer``."""

from __future__ import annotations

from typing import Any

from aiohttp import web

SERVER_KEY: web.AppKey[Any] = web.AppKey("facecast_motion_server", object)
