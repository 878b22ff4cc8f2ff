"""The server SDK against the embedded server, and the published ``spatius`` SDK against the same server.

``spatius_backend.py`` is a backend written for ``spatius``: it runs unchanged with
``engine.server_sdk`` in its place (the SDK's promise), and with ``spatius`` itself (the
server's). The published SDK's telemetry is switched off first and explicit endpoints skip its
region lookup, so nothing it does leaves loopback.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import sys
from datetime import datetime, timedelta, timezone

from pathlib import Path

import numpy as np
import pytest

import engine.server_sdk as server_sdk
from engine.server_sdk import tokens
from tests.server.test_ingress_opus import ogg_opus

from .conftest import RATE

BACKEND = Path(__file__).with_name("spatius_backend.py")


def _keyframes(frames) -> int:
    from engine.wire.messages import parse_message

    return sum(len(parse_message(data).server_response_animation.animation.keyframes) for data, _ in frames)


async def _run_backend(module: str, server) -> dict:
    env = dict(os.environ, FACECAST_TEST_API_KEY=server.api_key, FACECAST_TEST_APP_ID=server.app_id,
               FACECAST_TEST_CONSOLE=server.server.endpoints.console, FACECAST_TEST_INGRESS=server.server.endpoints.ingress,
               OTEL_SDK_DISABLED="true")
    proc = await asyncio.create_subprocess_exec(sys.executable, str(BACKEND), module, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, out.decode()
    return json.loads(out.decode().strip().splitlines()[-1])


@pytest.mark.parametrize("module", ["engine.server_sdk", "spatius"])
async def test_one_backend_written_for_spatius_runs_on_either_sdk(motion_server, module, warm_generator):
    if module == "spatius" and importlib.util.find_spec("spatius") is None:  # never imported here (see above)
        pytest.skip("the published spatius SDK is not installed (pip install '.[test]')")
    result = await _run_backend(module, motion_server)
    # 1 s of audio in 0.2 s chunks: one animation message per chunk, the last one flagged.
    assert result["req_id"] and result["messages"] == 5
    assert result["last"] == [False, False, False, False, True]


async def test_ogg_opus_input_and_the_token_cache(motion_server, speech, warm_generator):
    import av

    pcm48 = av.AudioResampler(format="s16", layout="mono", rate=48000)
    frame = av.AudioFrame.from_ndarray(speech[:RATE].reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = RATE
    stream = ogg_opus(np.concatenate([f.to_ndarray().reshape(-1) for f in pcm48.resample(frame)]))
    tokens.clear_cache()
    frames, errors = [], []
    done = asyncio.Event()
    session = server_sdk.new_avatar_session(
        avatar_id="demo", api_key=motion_server.api_key, app_id=motion_server.app_id, region="local",
        console_endpoint_url=motion_server.server.endpoints.console,
        ingress_endpoint_url=motion_server.server.endpoints.ingress, sample_rate=RATE,
        audio_format=server_sdk.AudioFormat.OGG_OPUS,
        transport_frames=lambda data, last: (frames.append(data), last and done.set()), on_error=errors.append)
    async with session:
        await session.send_audio(stream, end=True)
        await asyncio.wait_for(done.wait(), 30)
    assert errors == []
    assert _keyframes([(f, False) for f in frames]) == 25
    first = tokens.cached(motion_server.api_key, motion_server.app_id, motion_server.server.endpoints.console)
    assert first is not None
    # A cached token close to its expiry is replaced by a fresh one at the next init().
    key = (motion_server.api_key, motion_server.app_id, motion_server.server.endpoints.console)
    tokens._cache[key] = (first, datetime.now(timezone.utc) + timedelta(seconds=30))
    again = server_sdk.new_avatar_session(avatar_id="demo", api_key=motion_server.api_key, app_id=motion_server.app_id,
                                          region="local", console_endpoint_url=key[2],
                                          ingress_endpoint_url=motion_server.server.endpoints.ingress)
    await again.init()
    assert tokens.cached(*key) not in (None, first)


def test_what_facecast_cannot_do_is_refused_not_ignored(motion_server):
    common = dict(avatar_id="demo", api_key="k", app_id="a")
    refusals = [
        (dict(ogg_opus_encoder=server_sdk.OggOpusEncoderConfig()), "unsupportedParameter"),
        (dict(region="auto"), "unsupportedParameter"),
        (dict(region="us-west"), "unsupportedParameter"),
        (dict(region="local", agora_egress=server_sdk.AgoraEgressConfig(channel_name="c")), "invalidEgressConfig"),
        (dict(region="local", sample_rate=11025), "unsupportedSampleRate"),
    ]
    for options, code in refusals:
        with pytest.raises(server_sdk.AvatarSDKError) as refused:
            server_sdk.new_avatar_session(**common, **options)
        assert refused.value.code.value == code, options
        assert refused.value.phase == "config"
    with pytest.raises(server_sdk.AvatarSDKError):
        server_sdk.configure_telemetry("https://telemetry.example")
    server_sdk.configure_telemetry("")


async def test_a_bad_api_key_and_calls_out_of_order_have_clear_errors(motion_server):
    session = server_sdk.new_avatar_session(avatar_id="demo", api_key="fck_000000000000_" + "x" * 43,
                                            app_id=motion_server.app_id, region="local",
                                            console_endpoint_url=motion_server.server.endpoints.console,
                                            ingress_endpoint_url=motion_server.server.endpoints.ingress)
    with pytest.raises(server_sdk.AvatarSDKError, match="not started"):
        await session.send_audio(b"\0\0")
    tokens.clear_cache()
    with pytest.raises(server_sdk.SessionTokenError) as refused:
        await session.init()
    assert refused.value.code == server_sdk.AvatarSDKErrorCode.apiKeyInvalid and refused.value.http_status == 401
