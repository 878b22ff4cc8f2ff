"""Session tokens: the console API issues them, the ingress refuses every bad one with its own code."""

from __future__ import annotations

import base64
import json
import time

import pytest
import websockets

from engine.server.codes import ServerErrorCode as E
from engine.server.tokens import TokenError, TokenSigner

from .raw_client import open_session, recv_until_closed


async def refusal(motion_server, headers: dict[str, str], avatar_id: str | None = None) -> tuple[list[int], int]:
    """SERVER_ERROR codes received and the close code, for a connection the server should refuse."""
    async with websockets.connect(motion_server.ingress_url(avatar_id), additional_headers=headers) as ws:
        msgs = await recv_until_closed(ws)
    return [m.server_error.code for m in msgs], ws.close_code


def forge(token: str, **changes) -> str:
    prefix, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{prefix}.{payload}.{signature}"


async def test_console_issues_a_token_that_opens_a_session(motion_server):
    status, body = await motion_server.request_token()
    assert status == 200 and set(body) == {"sessionToken"}
    ws, _ = await open_session(motion_server.ingress_url(), motion_server.headers(body["sessionToken"]))
    await ws.close()


@pytest.mark.parametrize("api_key, body, status, code", [
    ("", None, 401, "apiKeyMissing"),
    ("fck_000000000000_" + "A" * 43, None, 401, "apiKeyInvalid"),
    ("not a key", None, 401, "apiKeyInvalid"),
    (None, {"expireAt": int(time.time()) - 10}, 400, "expireAtInPast"),
    (None, {"expireAt": int(time.time()) + 25 * 3600}, 400, "expireAtTooFar"),
    (None, {"expireAt": "tomorrow"}, 400, "invalidArgument"),
    (None, {"expireAt": True}, 400, "invalidArgument"),
    (None, {}, 400, "invalidArgument"),
    (None, b"{not json", 400, "invalidArgument"),
])
async def test_console_refusals_use_the_protocol_error_shape(motion_server, api_key, body, status, code):
    got_status, got = await motion_server.request_token(api_key=api_key, body=body)
    assert got_status == status
    [error] = got["errors"]
    assert (error["status"], error["code"]) == (status, code) and error["message"]


async def test_revoked_key_is_refused(motion_server):
    [key] = await motion_server.server.store.list_keys(motion_server.app_id)
    assert await motion_server.server.store.revoke_key(key.key_id)
    status, body = await motion_server.request_token()
    assert (status, body["errors"][0]["code"]) == (401, "apiKeyInvalid")


async def test_unknown_route_answers_in_the_error_shape(motion_server):
    import aiohttp

    async with aiohttp.ClientSession() as http:
        async with http.get(f"{motion_server.base_url}/v1/nothing") as resp:
            assert resp.status == 404
            assert (await resp.json())["errors"][0]["code"] == "notFound"


async def test_missing_token_is_unauthenticated(motion_server):
    assert await refusal(motion_server, {"X-App-ID": motion_server.app_id}) == ([E.UNAUTHENTICATED], 1008)


async def test_forged_signature_is_unauthenticated(motion_server):
    token = await motion_server.token()
    forged = forge(token, exp=int(time.time()) + 20 * 3600)  # stretch the expiry without the secret
    assert await refusal(motion_server, motion_server.headers(forged)) == ([E.UNAUTHENTICATED], 1008)
    garbage = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert await refusal(motion_server, motion_server.headers(garbage)) == ([E.UNAUTHENTICATED], 1008)


async def test_token_of_another_server_is_unauthenticated(motion_server):
    other = TokenSigner(b"x" * 32).issue(motion_server.app_id, int(time.time()) + 60)
    assert await refusal(motion_server, motion_server.headers(other)) == ([E.UNAUTHENTICATED], 1008)


async def test_expired_token_is_refused_as_expired(motion_server):
    # A genuine token minted 100 s ago that lived 50 s.
    expired = motion_server.server.signer.issue(motion_server.app_id, int(time.time()) - 50, now=time.time() - 100)
    assert await refusal(motion_server, motion_server.headers(expired)) == ([E.TOKEN_EXPIRED], 1008)


async def test_wrong_and_unknown_app_ids(motion_server):
    token = await motion_server.token()
    assert await refusal(motion_server, motion_server.headers(token, app_id="no-such-app")) == ([E.APP_UNKNOWN], 1008)
    other_app = await motion_server.server.store.create_app("other")
    _, other_key = await motion_server.server.store.create_key(other_app)
    other_token = await motion_server.token(api_key=other_key)
    # A genuine token, but for another app than the one named in the headers.
    assert await refusal(motion_server, motion_server.headers(other_token)) == ([E.APP_UNKNOWN], 1008)


async def test_avatar_without_grant_or_unknown_is_refused(motion_server):
    token = await motion_server.token()
    assert await refusal(motion_server, motion_server.headers(token), "no-such-avatar") == ([E.AVATAR_UNKNOWN], 1008)
    other_app = await motion_server.server.store.create_app("other")
    _, other_key = await motion_server.server.store.create_key(other_app)
    other_token = await motion_server.token(api_key=other_key)
    assert await refusal(motion_server, motion_server.headers(other_token, other_app)) == ([E.AVATAR_UNKNOWN], 1008)


def test_signer_rules():
    signer = TokenSigner(b"s" * 32)
    now = 1_000_000
    token = signer.issue("app", now + 3600, now=now)
    assert signer.verify(token, "app", now=now + 10).expires_at == now + 3600
    with pytest.raises(ValueError):
        signer.issue("app", now + 24 * 3600 + 1, now=now)
    with pytest.raises(ValueError):
        signer.issue("app", now, now=now)
    with pytest.raises(TokenError) as exc:
        signer.verify(token, "app", now=now + 3600)
    assert exc.value.code == E.TOKEN_EXPIRED
    with pytest.raises(TokenError) as exc:
        signer.verify(token, "other", now=now)
    assert exc.value.code == E.APP_UNKNOWN
    for bad in ("", "fct1", "fct1.a.b.c", "x" * 5000, "fct1.\u00e9.\u00e9"):
        with pytest.raises(TokenError) as exc:
            signer.verify(bad, "app", now=now)
        assert exc.value.code == E.UNAUTHENTICATED


async def test_keys_and_tokens_never_reach_the_logs(motion_server, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    token = await motion_server.token()
    await motion_server.request_token(api_key=motion_server.api_key[:-2] + "xx")
    ws, _ = await open_session(motion_server.ingress_url(), motion_server.headers(token))
    await ws.close()
    await refusal(motion_server, motion_server.headers(token[:-3] + "abc"))
    # The server's own loggers and aiohttp's (the test's raw client is the websockets library,
    # which logs its own request headers at DEBUG: that is the client's business).
    text = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(("facecast", "aiohttp")))
    assert "issued a session token" in text  # the log is there...
    secret_part = motion_server.api_key.split("_", 2)[2]
    assert secret_part not in text and secret_part[:-2] not in text  # ...without the key
    assert token.split(".")[2] not in text  # or the token's signature
