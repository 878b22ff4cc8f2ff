"""Console rate limits in one process (the shared Redis buckets are checked in test_cluster.py)."""

from __future__ import annotations

import time

import aiohttp
import pytest
from aiohttp.test_utils import make_mocked_request

from engine.server import MotionServer
from engine.server.ratelimit import LocalRateLimiter, RateLimits, client_address
from engine.server.provision import provision_if_empty


async def test_token_bucket_refills_at_its_rate():
    limiter = LocalRateLimiter(max_buckets=2)
    assert [await limiter.hit("a", rate=10, burst=3) for _ in range(3)] == [0, 0, 0]
    wait = await limiter.hit("a", rate=10, burst=3)
    assert 0 < wait <= 0.1
    assert await limiter.hit("b", 10, 3) == 0 and await limiter.hit("c", 10, 3) == 0  # "a" is pushed out
    assert await limiter.hit("a", 10, 3) == 0


def test_forwarded_address_is_believed_only_from_a_trusted_proxy():
    peer = "127.0.0.1"
    request = make_mocked_request("POST", "/", headers={"X-Forwarded-For": "203.0.113.9, 10.0.0.7"}).clone(remote=peer)
    assert client_address(request, ()) == peer
    assert client_address(request, ("192.0.2.0/24",)) == peer
    assert client_address(request, (peer,)) == "10.0.0.7"  # the hop the proxy itself saw
    with pytest.raises(ValueError):
        RateLimits(trusted_proxies=("not an address",))
    with pytest.raises(ValueError):
        RateLimits(per_key_rps=0)


async def test_console_answers_429_with_retry_after_per_key_and_per_address(tmp_path):
    server = MotionServer(data_dir=tmp_path, rate_limits=RateLimits(per_key_rps=1, per_key_burst=2,
                                                                    per_address_rps=1, per_address_burst=4))
    setup = await provision_if_empty(server.store)
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            async def ask(key: str) -> tuple[int, dict, str | None]:
                async with http.post(f"{server.base_url}/v1/console/session-tokens", headers={"X-Api-Key": key},
                                     json={"expireAt": int(time.time()) + 60}) as resp:
                    return resp.status, await resp.json(), resp.headers.get("Retry-After")
            answers = [await ask(setup.api_key) for _ in range(3)]
            assert [a[0] for a in answers] == [200, 200, 429]
            assert answers[2][1]["errors"][0]["code"] == "rateLimited" and answers[2][2] == "1"
            # The address bucket (burst 4) runs out too, even for requests with a wrong key.
            status, body, after = await ask("fck_000000000000_" + "x" * 43)
            assert status == 401
            status, body, after = await ask("wrong")
            assert status == 429 and "address" in body["errors"][0]["message"] and after == "1"
    finally:
        await server.stop()
