"""Routes of the browser page: its static files, a session token for it, and text-to-speech for it.

The page acts for one app of this server (``PageAccess.app_id``) and proves it may with the page
key ``facecast serve`` prints inside the page's URL fragment (browsers do not send fragments to
servers, so the key never lands in an access log). The key is random per process and compared in
constant time; without it the page gets 401 and can do nothing. The page then speaks the public
protocol like any other client (ingress WebSocket with ``appId``/``sessionKey`` query parameters,
``EGRESS_TYPE_WEBRTC_VIDEO``, a WHEP join with the join token).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
import shutil
import time
from pathlib import Path

import attrs
from aiohttp import web

from ..context import SERVER_KEY
from ..http_errors import error_response, read_json

log = logging.getLogger("facecast.server.page")

STATIC = Path(__file__).resolve().parent / "static"
FILES = {"": ("index.html", "text/html"), "index.html": ("index.html", "text/html"),
         "app.js": ("app.js", "text/javascript"), "proto.js": ("proto.js", "text/javascript")}
TOKEN_TTL_S = 3600
MAX_TEXT = 600  # characters of one utterance
TTS_TIMEOUT_S = 15.0


@attrs.frozen
class PageAccess:
    """Which app the page acts for, and the key that unlocks it (random unless given)."""

    app_id: str
    key: str = attrs.field(factory=lambda: secrets.token_urlsafe(24))

    def url(self, base_url: str) -> str:
        return f"{base_url}/page/#key={self.key}"


def _authorized(request: web.Request) -> PageAccess | None:
    access = request.app[SERVER_KEY].page
    given = request.headers.get("X-Page-Key", "")
    if access is None or not hmac.compare_digest(given.encode(), access.key.encode()):
        return None
    return access


def _refused() -> web.Response:
    return error_response(401, "pageKeyInvalid", "this page needs the key in the URL that `facecast serve` printed "
                          "(…/page/#key=…); open that URL again")


async def static_file(request: web.Request) -> web.StreamResponse:
    entry = FILES.get(request.match_info.get("name", ""))
    if entry is None:
        return error_response(404, "notFound", "no such file on the page")
    name, content_type = entry
    return web.Response(body=(STATIC / name).read_bytes(), content_type=content_type,
                        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


async def page_session(request: web.Request) -> web.Response:
    """A session token for the page's app, the avatars it may show, and the ingress URL."""
    access = _authorized(request)
    if access is None:
        return _refused()
    server = request.app[SERVER_KEY]
    token = server.signer.issue(access.app_id, int(time.time()) + TOKEN_TTL_S)
    avatars = [a for a in await server.store.grants(access.app_id) if server.catalog.package_dir(a) is not None]
    return web.json_response({"appId": access.app_id, "sessionToken": token, "avatars": avatars,
                              "ingress": server.endpoints.ingress})


async def page_speech(request: web.Request) -> web.StreamResponse:
    """``{"text": …}`` → WAV spoken by espeak-ng (the Debian package), for the page's "Say it"."""
    if _authorized(request) is None:
        return _refused()
    server = request.app[SERVER_KEY]
    body = await read_json(request, server.limits.request_timeout_s, '{"text": "<what to say>"}')
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        return error_response(400, "invalidArgument", f'the body needs "text": 1..{MAX_TEXT} characters to say')
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        return error_response(501, "speechUnavailable", "this server has no espeak-ng for text-to-speech; "
                              "install it (apt install espeak-ng) or upload a sound file instead")
    process = await asyncio.create_subprocess_exec(espeak, "--stdout", "--", text.strip(),
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        wav, errors = await asyncio.wait_for(process.communicate(), TTS_TIMEOUT_S)
    except asyncio.TimeoutError:
        process.kill()
        await process.wait()
        return error_response(504, "speechTimeout", f"espeak-ng took longer than {TTS_TIMEOUT_S:g} s")
    if process.returncode != 0 or not wav:
        log.warning("espeak-ng failed: %s", errors.decode(errors="replace")[:300])
        return error_response(500, "speechFailed", "espeak-ng could not speak that text")
    return web.Response(body=wav, content_type="audio/wav")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/page/", static_file)
    app.router.add_get("/page/{name}", static_file)
    app.router.add_post("/v1/page/session", page_session)
    app.router.add_post("/v1/page/speech", page_speech)
