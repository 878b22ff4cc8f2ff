"""HTTP side of ``AvatarManager``: the App-ID-scoped asset listing and verified streaming downloads.

``GET {assets}/avatars/<id>?appId=<app>`` answers ``{"manifest": {...}, "assets": {"<file>": {"url",
"size", "sha256"}}}`` (docs/internals.md). Relative asset URLs are resolved against the listing's URL.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Callable
from urllib.parse import quote, urljoin, urlsplit

import aiohttp

from ..errors import AvatarError, ErrorCode
from .manifest import Manifest, parse_manifest

CHUNK = 64 * 1024
MAX_LISTING_BYTES = 1 << 20


def listing_url(assets_endpoint: str, avatar_id: str, app_id: str) -> str:
    return f"{assets_endpoint.rstrip('/')}/avatars/{quote(avatar_id, safe='')}?appId={quote(app_id, safe='')}"


def _server_message(body: bytes) -> str:
    """The protocol's error text (``{"errors": [{"message": ...}]}``) if the body carries one."""
    try:
        errors = json.loads(body).get("errors")
        return "; ".join(str(e.get("message", e.get("code", ""))) for e in errors if isinstance(e, dict))
    except (ValueError, AttributeError, TypeError, RecursionError):
        return ""


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}"


async def fetch_listing(session: aiohttp.ClientSession, url: str, avatar_id: str,
                        allowed_origins: tuple[str, ...] = ()) -> tuple[Manifest, dict[str, str]]:
    """The validated manifest and each asset's absolute URL.

    Asset URLs must be on the listing's own origin or one of ``allowed_origins``
    (``Configuration.asset_origins``): a listing cannot send the client to other hosts.
    """
    fail = ErrorCode.failedToFetchAvatarMetadata
    try:
        async with session.get(url) as resp:
            status = resp.status
            body = bytearray()
            async for chunk in resp.content.iter_chunked(CHUNK):  # read() may return a partial body
                body += chunk
                if len(body) > MAX_LISTING_BYTES:
                    break
            body = bytes(body)
    except aiohttp.ClientError as exc:
        raise AvatarError(fail, f"cannot fetch the metadata of avatar {avatar_id!r} from {url} "
                                f"({type(exc).__name__}: {exc}); check the region / custom_endpoint and that "
                                "the server is running") from None
    except TimeoutError:
        raise AvatarError(fail, f"fetching the metadata of avatar {avatar_id!r} from {url} timed out") from None
    if status == 404:
        detail = _server_message(body)
        raise AvatarError(ErrorCode.avatarIDUnrecognized,
                          f"the server does not know avatar {avatar_id!r} for this App ID"
                          + (f" ({detail})" if detail else "") + "; check the avatar id and the App ID")
    if status != 200:
        detail = _server_message(body)
        raise AvatarError(fail, f"the server answered HTTP {status} for the metadata of avatar {avatar_id!r}"
                                + (f" ({detail})" if detail else "") + "; try again later")
    if len(body) > MAX_LISTING_BYTES:
        raise AvatarError(fail, f"the metadata of avatar {avatar_id!r} exceeds {MAX_LISTING_BYTES} bytes")
    try:
        listing = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise AvatarError(fail, f"the server's answer for avatar {avatar_id!r} is not JSON; is {url} a Facecast "
                                "asset endpoint?") from None
    if not isinstance(listing, dict) or not isinstance(listing.get("manifest"), dict) \
            or not isinstance(listing.get("assets"), dict):
        raise AvatarError(ErrorCode.invalidAvatarMetadata,
                          f"the metadata of avatar {avatar_id!r} must be an object with 'manifest' and 'assets'")
    manifest = parse_manifest(listing["manifest"])
    if manifest.id != avatar_id:
        raise AvatarError(ErrorCode.invalidAvatarMetadata,
                          f"asked for avatar {avatar_id!r}, the server's manifest is for {manifest.id!r}")
    urls = {}
    for name, entry in manifest.assets.items():
        item = listing["assets"].get(name)
        if not isinstance(item, dict) or not isinstance(item.get("url"), str):
            raise AvatarError(ErrorCode.invalidAvatarMetadata, f"the asset listing has no URL for {name}")
        if item.get("size") != entry.size or item.get("sha256") != entry.sha256:
            raise AvatarError(ErrorCode.invalidAvatarMetadata,
                              f"the asset listing's size/sha256 for {name} disagree with the manifest")
        absolute = urljoin(url, item["url"])
        if urlsplit(absolute).scheme not in ("http", "https"):
            raise AvatarError(ErrorCode.invalidAvatarMetadata, f"asset URL {item['url']!r} is not http(s)")
        if _origin(absolute) != _origin(url) and _origin(absolute) not in allowed_origins:
            raise AvatarError(ErrorCode.invalidAvatarMetadata,
                              f"asset URL {absolute!r} for {name} is not on the listing's origin {_origin(url)}; "
                              "add its origin to Configuration.asset_origins if that host is trusted")
        urls[name] = absolute
    return manifest, urls


async def download_file(session: aiohttp.ClientSession, url: str, dest: Path, name: str, size: int, sha256: str,
                        on_bytes: Callable[[int], None]) -> None:
    """Stream ``url`` into ``dest``, checking the size as it arrives and the sha256 at the end."""
    fail = ErrorCode.failedToDownloadAvatarAssets
    digest = hashlib.sha256()
    received = 0
    try:
        async with session.get(url) as resp:
            if resp.status != 200:
                raise AvatarError(fail, f"downloading {name} failed: HTTP {resp.status} from {url}")
            # Plain writes: a 64 KiB write to the page cache takes microseconds, and a thread hop per
            # chunk would let a cancelled load race its own cleanup of the staging directory.
            with open(dest, "wb") as fh:
                async for chunk in resp.content.iter_chunked(CHUNK):
                    received += len(chunk)
                    if received > size:
                        raise AvatarError(fail, f"{name} is larger than the {size} bytes its manifest declares; "
                                                "the server's copy is not the one listed")
                    digest.update(chunk)
                    fh.write(chunk)
                    on_bytes(len(chunk))
    except aiohttp.ClientError as exc:
        raise AvatarError(fail, f"downloading {name} from {url} failed ({type(exc).__name__}: {exc})") from None
    except TimeoutError:
        raise AvatarError(fail, f"downloading {name} from {url} timed out") from None
    except OSError as exc:
        raise AvatarError(fail, f"cannot write {name} to the avatar cache ({exc.strerror or exc}); point "
                                "FACECAST_CACHE_DIR at a writable directory") from None
    if received != size:
        raise AvatarError(fail, f"{name} arrived truncated: {received} of {size} bytes; try again")
    if digest.hexdigest() != sha256:
        raise AvatarError(fail, f"{name} failed its sha256 check (got {digest.hexdigest()[:16]}…, expected "
                                f"{sha256[:16]}…); the download is corrupt")
