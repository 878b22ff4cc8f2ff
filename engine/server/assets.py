"""App-ID-scoped avatar assets: ``GET /v1/assets/avatars/<id>?appId=<app>`` and the files it lists.

Unknown ids, unknown apps and apps without a grant for the id all get the same 404, so the
endpoint does not reveal which avatars exist to apps that may not load them.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import quote

from aiohttp import web

from ..errors import AvatarError
from .context import SERVER_KEY
from .http_errors import error_response

log = logging.getLogger("facecast.server.assets")


def _not_found(avatar_id: str) -> web.Response:
    return error_response(404, "avatarNotFound",
                          f"avatar {avatar_id!r} does not exist or this App ID may not load it")


async def _allowed_package(request: web.Request) -> tuple[str, str, Path | None]:
    server = request.app[SERVER_KEY]
    avatar_id = request.match_info["avatar_id"]
    app_id = request.query.get("appId") or request.headers.get("X-App-ID", "")
    if not app_id or not await server.store.is_granted(app_id, avatar_id):
        return app_id, avatar_id, None
    return app_id, avatar_id, server.catalog.package_dir(avatar_id)


async def avatar_listing(request: web.Request) -> web.Response:
    app_id, avatar_id, package = await _allowed_package(request)
    if package is None:
        return _not_found(avatar_id)
    from ..avatar.listing import asset_listing  # the avatar package format is the avatar module's job

    base_url = f"{request.url.origin()}/v1/assets/avatars/{quote(avatar_id)}/files"
    try:
        listing = asset_listing(package, base_url)
    except AvatarError as exc:  # the operator's package is broken: their log says why, the client gets a 404
        log.warning("avatar %r cannot be listed: %s", avatar_id, exc.message)
        return error_response(404, "avatarPackageInvalid", f"avatar {avatar_id!r} is installed on this server "
                              "but its package is invalid; ask the server's operator to reinstall it")
    # The files are App-ID-scoped too, so every URL carries the App ID it was listed for.
    for entry in listing.get("assets", {}).values():
        sep = "&" if "?" in entry["url"] else "?"
        entry["url"] = f"{entry['url']}{sep}appId={quote(app_id)}"
    return web.json_response(listing)


async def avatar_file(request: web.Request) -> web.StreamResponse:
    _, avatar_id, package = await _allowed_package(request)
    if package is None:
        return _not_found(avatar_id)
    root = package.resolve()
    try:
        path = (root / request.match_info["name"]).resolve()
        found = root in path.parents and path.is_file()
    except (ValueError, OSError):  # an embedded NUL byte, a name too long for the file system
        found = False
    if not found:
        return error_response(404, "assetNotFound", f"avatar {avatar_id!r} has no file {request.match_info['name']!r}")
    return web.FileResponse(path)
