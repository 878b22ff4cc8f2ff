"""Join tokens: short-lived bearer tokens that let one WebRTC peer join one session's egress.

Format ``fcj1.<base64url(claims JSON)>.<base64url(HMAC-SHA256)>`` with claims
``{"sid": connection id, "app": app id, "exp": unix seconds, "jti": random}``. The key is derived
from the server's token secret with a label, so a session token can never pass as a join
token (or the other way round), and the signature is checked in constant time before any
claim is read. Each refusal has its own :class:`JoinRefused` code and HTTP status.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time

import attrs

from ..tokens import _b64, _unb64

PREFIX = "fcj1"
MAX_TOKEN_CHARS = 2048
MAX_TTL_S = 3600


class JoinRefused(Exception):
    """A join was refused: ``status`` (HTTP), ``code`` (the JSON error code) and ``message``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        self.status = status
        self.code = code
        self.message = message
        super().__init__(message)


def invalid(message: str) -> JoinRefused:
    return JoinRefused(401, "joinTokenInvalid", message)


@attrs.frozen
class JoinClaims:
    connection_id: str
    app_id: str
    expires_at: int
    token_id: str


class JoinTokenSigner:
    def __init__(self, server_secret: bytes) -> None:
        self._key = hmac.new(server_secret, b"facecast rtc join token v1", hashlib.sha256).digest()

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, f"{PREFIX}.{payload}".encode("ascii"), hashlib.sha256).digest())

    def issue(self, connection_id: str, app_id: str, ttl_s: float, now: float | None = None) -> tuple[str, int]:
        """A token for joining session ``connection_id``, and its expiry (unix seconds)."""
        if not 0 < ttl_s <= MAX_TTL_S:
            raise ValueError(f"join token lifetime must be in (0, {MAX_TTL_S}] s, not {ttl_s!r}")
        now = time.time() if now is None else now
        expires = int(now + ttl_s + 0.999)
        claims = {"sid": connection_id, "app": app_id, "exp": expires, "jti": secrets.token_hex(8)}
        payload = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode("utf-8"))
        return f"{PREFIX}.{payload}.{self._sign(payload)}", expires

    def verify(self, token: str, connection_id: str, now: float | None = None) -> JoinClaims:
        """The claims of a genuine, unexpired token for session ``connection_id``; :class:`JoinRefused` otherwise."""
        if not token:
            raise JoinRefused(401, "joinTokenMissing", "send the join token as 'Authorization: Bearer <token>'")
        if len(token) > MAX_TOKEN_CHARS:
            raise invalid("the join token is too long")
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != PREFIX:
            raise invalid("the join token is malformed; use the join_token from the session's confirm")
        _, payload, signature = parts
        try:
            expected = self._sign(payload)
        except UnicodeEncodeError:
            raise invalid("the join token is malformed") from None
        if not hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8", "replace")):
            raise invalid("the join token's signature does not match")
        try:
            raw = json.loads(_unb64(payload))
            claims = JoinClaims(str(raw["sid"]), str(raw["app"]), int(raw["exp"]), str(raw["jti"]))
        except (ValueError, KeyError, TypeError):
            raise invalid("the join token's claims are malformed") from None
        if not hmac.compare_digest(claims.connection_id.encode("utf-8"), connection_id.encode("utf-8")):
            raise JoinRefused(403, "joinTokenWrongSession",
                              "this join token belongs to another session; use the token that came with this "
                              "session's join URL")
        if claims.expires_at <= (time.time() if now is None else now):
            raise JoinRefused(401, "joinTokenExpired", "the join token has expired; ask the backend for a new one")
        return claims
