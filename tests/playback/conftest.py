"""Playback fixtures: the demo avatar, a backend-mode SDK, a controller on a caller-advanced virtual sink."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from engine import AvatarSDK, Configuration
from engine.avatar.package import load_bundled
from engine.playback.controller import AvatarController
from engine.wire import encode_animation

RATE = 16000
SPF = RATE // 25  # samples per keyframe at 16 kHz
EVENTS = ("on_conversation_state", "on_animation_state", "on_playback_stall", "on_connection_state", "on_error")


@pytest.fixture(scope="session")
def avatar():
    return load_bundled("demo")


@pytest.fixture
async def backend():
    await AvatarSDK.initialize("test-app", Configuration(driving_service_mode="backend",
                                                         audio_format={"sample_rate": RATE}))
    return AvatarSDK


class Recorder:
    """Collects controller events as (name, value) in delivery order."""

    def __init__(self, controller) -> None:
        self.events: list[tuple[str, object]] = []
        for name in EVENTS:
            setattr(controller, name, self._make(name))

    def _make(self, name):
        def record(value):
            self.events.append((name.removeprefix("on_"), value.value if hasattr(value, "value") else value))
        return record

    async def take(self) -> list[tuple[str, object]]:
        """Let the loop run the queued callbacks, then return and forget what arrived."""
        for _ in range(3):
            await asyncio.sleep(0)
        events, self.events = self.events, []
        return events


@pytest.fixture
async def ctl(backend, avatar):
    controller = AvatarController(avatar, audio_sink="virtual")
    yield controller
    controller.dispose()


@pytest.fixture
def rec(ctl):
    return Recorder(ctl)


def tone(seconds: float, rate: int = RATE) -> bytes:
    n = int(round(seconds * rate))
    return (np.sin(np.arange(n) * 0.07) * 8000).astype("<i2").tobytes()


def keyframes(count: int, dim: int = 70, seed: int = 0) -> np.ndarray:
    """Distinct, smooth-ish keyframes: small rotations, varied expressions."""
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(count, dim)) * 0.1).astype(np.float32)


def payloads(kf: np.ndarray, start: int = 0, per_message: int = 5, end: bool = True, req_id: str = "server-req"):
    """Raw SERVER_RESPONSE_ANIMATION envelopes for ``kf`` from frame ``start``, ``per_message`` frames each."""
    out = []
    for i in range(0, len(kf), per_message):
        last = i + per_message >= len(kf)
        out.append(encode_animation("conn-1", req_id, kf[i:i + per_message], start + i, end and last))
    return out


def run(controller, seconds: float, tick_s: float = 0.02) -> None:
    """Advance the virtual device by ``seconds`` in render ticks of ``tick_s``, drawing a pose each tick."""
    sink = controller.audio_sink
    out = np.zeros(controller._dim, np.float32)
    steps = int(round(seconds / tick_s))
    for _ in range(steps):
        sink.advance(int(round(tick_s * sink.sample_rate)))
        controller.frame_pose(out)
