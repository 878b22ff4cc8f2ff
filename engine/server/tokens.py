"""Session tokens: HMAC-SHA256-signed claims, bound to one App ID, living at most 24 h.

Format: ``fct1.<base64url(claims JSON)>.<base64url(HMAC-SHA256(secret, "fct1." + claims part))>``.
Claims are ``{"app": app_id, "iat": issued, "exp": expires, "jti": random id, "kid": API key id}``
(unix seconds); ``jti`` and ``kid`` let a revoked token or key be refused before it expires.
The signature is checked with a constant-time comparison before any claim is trusted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time

import attrs

from .codes import ServerErrorCode

PREFIX = "fct1"
MAX_LIFETIME_S = 24 * 3600
MAX_TOKEN_CHARS = 4096


class TokenError(Exception):
    """A token was refused; ``code`` says why (unauthenticated, expired, or another app's)."""

    def __init__(self, code: ServerErrorCode, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


@attrs.frozen
class TokenClaims:
    app_id: str
    issued_at: int
    expires_at: int
    token_id: str
    key_id: str = ""  # the API key that requested the token ("" for tokens minted before keys were recorded)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    """Issues and verifies tokens with one server secret (32+ random bytes)."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 32:
            raise ValueError("token secret must be at least 32 bytes")
        self._secret = secret

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._secret, f"{PREFIX}.{payload}".encode("ascii"), hashlib.sha256).digest())

    def issue(self, app_id: str, expire_at: int, now: float | None = None, key_id: str = "") -> str:
        """A token for ``app_id`` valid until ``expire_at``; ``ValueError`` if that is past or > 24 h away."""
        now = int(time.time() if now is None else now)
        if expire_at <= now:
            raise ValueError(f"expireAt must be in the future (now is {now}, got {expire_at})")
        if expire_at - now > MAX_LIFETIME_S:
            raise ValueError(f"expireAt must be at most 24 h ({MAX_LIFETIME_S} s) away, got {expire_at - now} s")
        claims = {"app": app_id, "iat": now, "exp": int(expire_at), "jti": secrets.token_hex(8), "kid": key_id}
        payload = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode("utf-8"))
        return f"{PREFIX}.{payload}.{self._sign(payload)}"

    def verify(self, token: str, app_id: str, now: float | None = None) -> TokenClaims:
        """The claims of a genuine, unexpired token for ``app_id``; ``TokenError`` otherwise."""
        if not token or len(token) > MAX_TOKEN_CHARS:
            raise TokenError(ServerErrorCode.UNAUTHENTICATED, "session token is missing or too long")
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != PREFIX:
            raise TokenError(ServerErrorCode.UNAUTHENTICATED, "session token is malformed")
        _, payload, signature = parts
        try:
            expected = self._sign(payload)
        except UnicodeEncodeError:
            raise TokenError(ServerErrorCode.UNAUTHENTICATED, "session token is malformed") from None
        if not hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8", "replace")):
            raise TokenError(ServerErrorCode.UNAUTHENTICATED, "session token signature does not match")
        try:
            raw = json.loads(_unb64(payload))
            claims = TokenClaims(str(raw["app"]), int(raw["iat"]), int(raw["exp"]), str(raw["jti"]),
                                 str(raw.get("kid", "")))
        except (ValueError, KeyError, TypeError):
            raise TokenError(ServerErrorCode.UNAUTHENTICATED, "session token claims are malformed") from None
        if not hmac.compare_digest(claims.app_id.encode("utf-8"), app_id.encode("utf-8")):
            raise TokenError(ServerErrorCode.APP_UNKNOWN, "session token was issued to another App ID")
        now = time.time() if now is None else now
        if claims.expires_at <= now:
            raise TokenError(ServerErrorCode.TOKEN_EXPIRED, "session token has expired; request a new one")
        return claims
