"""The browser page's HTTP routes: static files, the page key, the page's session and its text-to-speech."""

from __future__ import annotations

import shutil

import aiohttp
import pytest

from engine.server import MotionServer
from engine.server.provision import provision_if_empty
from engine.server.web import PageAccess


@pytest.fixture
async def page_server(tmp_path):
    server = MotionServer(data_dir=tmp_path / "data")
    setup = await provision_if_empty(server.store)
    server.page = PageAccess(setup.app_id)
    await server.start("127.0.0.1", 0)
    try:
        yield server
    finally:
        await server.stop()


async def post(server, path: str, key: str, body=None):
    async with aiohttp.ClientSession() as http:
        async with http.post(server.base_url + path, headers={"X-Page-Key": key}, json=body or {}) as resp:
            return resp.status, resp.content_type, await resp.read()


async def test_the_page_and_its_scripts_are_served_without_a_key(page_server):
    async with aiohttp.ClientSession() as http:
        for name, kind in (("", "text/html"), ("app.js", "text/javascript"), ("proto.js", "text/javascript")):
            async with http.get(f"{page_server.base_url}/page/{name}") as resp:
                assert resp.status == 200 and resp.content_type == kind
        async with http.get(f"{page_server.base_url}/page/../store.sqlite3") as resp:
            assert resp.status == 404


async def test_the_page_key_buys_a_session_token_for_its_app_only(page_server):
    import json

    status, _, body = await post(page_server, "/v1/page/session", "wrong-key")
    assert status == 401 and json.loads(body)["errors"][0]["code"] == "pageKeyInvalid"
    status, _, body = await post(page_server, "/v1/page/session", page_server.page.key)
    assert status == 200
    answer = json.loads(body)
    assert answer["appId"] == page_server.page.app_id and answer["avatars"] == ["demo"]
    claims = page_server.signer.verify(answer["sessionToken"], answer["appId"])
    assert claims is not None
    assert answer["ingress"].startswith("ws://127.0.0.1:")


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
async def test_typed_text_is_spoken_by_espeak_ng_and_bad_text_is_refused(page_server):
    status, kind, wav = await post(page_server, "/v1/page/speech", page_server.page.key, {"text": "Hello there."})
    assert status == 200 and kind == "audio/wav" and wav[:4] == b"RIFF" and len(wav) > 10_000
    for bad in ({"text": ""}, {"text": "x" * 601}, {"words": "hi"}):
        status, _, _ = await post(page_server, "/v1/page/speech", page_server.page.key, bad)
        assert status == 400
    status, _, _ = await post(page_server, "/v1/page/speech", "wrong-key", {"text": "hi"})
    assert status == 401
