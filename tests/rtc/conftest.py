"""The RTC path on loopback with real parts: the embedded server, the server SDK, aiortc peers on 127.0.0.1."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from engine import AudioFormat, AvatarSDK, AvatarView, Configuration, Offscreen
from engine.avatar.manager import AvatarManager
from engine.demo import SPEECH_CLIP
from engine.demo.audio import load_speech
from engine.server_sdk import new_avatar_session

RATE = 16000


def webrtc_session(server, *, base_url: str | None = None, app_id: str | None = None, api_key: str | None = None,
                   **options):
    """An SDK session on ``server`` (a RunningServer or ServerProcess) with the WebRTC egress."""
    base = base_url or server.base_url
    return new_avatar_session(avatar_id="demo", api_key=api_key or server.api_key, app_id=app_id or server.app_id,
                              console_endpoint_url=f"{base}/v1/console",
                              ingress_endpoint_url=base.replace("http", "ws", 1) + "/v2/driveningress",
                              sample_rate=RATE, egress="webrtc", **options)


@pytest.fixture
def speech() -> np.ndarray:
    pcm, rate = load_speech(SPEECH_CLIP, RATE)
    assert rate == RATE
    return pcm


@pytest.fixture(scope="session")
def warm_generator():
    """Load the procedural generator's compiled kernels once, so no server stalls its loop compiling them."""
    from engine.plugins import get_plugin_manager

    generator = get_plugin_manager().get("motion_generators", "procedural").factory(RATE, 50, 0)
    generator.feed(np.zeros(RATE, dtype=np.int16))
    generator.finish()


@pytest.fixture
async def player(warm_generator):
    """A backend-mode SDK, the demo avatar, and an offscreen cpu view playing into a real-time virtual sink."""
    await AvatarSDK.initialize("rtc-client-app", Configuration(driving_service_mode="backend", transport="rtc",
                                                               audio_format=AudioFormat(sample_rate=RATE)))
    avatar = await AvatarManager.shared.load("demo")
    view = AvatarView(avatar, Offscreen(96, 96), backend="cpu")
    view.controller.set_audio_sink("virtual", real_time=True)
    try:
        yield view
    finally:
        view.dispose()


async def send_paced(session, pcm: np.ndarray, chunk_s: float = 0.1, speed: float = 2.0) -> None:
    """Send ``pcm`` as a TTS engine would: ``chunk_s`` chunks, ``speed`` times faster than real time."""
    step = int(chunk_s * RATE)
    for at in range(0, len(pcm), step):
        await session.send_audio(pcm[at:at + step].tobytes(), end=at + step >= len(pcm))
        await asyncio.sleep(chunk_s / speed)


def mouth_darkness(rgba: np.ndarray) -> float:
    """Share of dark pixels in the mouth region: the open mouth shows its dark interior."""
    h, w = rgba.shape[:2]
    roi = rgba[int(0.62 * h):int(0.85 * h), int(0.35 * w):int(0.65 * w), :3].astype(np.float32)
    return float((roi.mean(axis=2) < 60).mean())


def loudness_db(pcm: np.ndarray, t: float, window_s: float = 0.04) -> float:
    at = int(t * RATE)
    seg = pcm[at:at + int(window_s * RATE)].astype(float)
    return float(20 * np.log10(np.sqrt(np.mean(seg * seg)) + 1.0)) if seg.size else 0.0
