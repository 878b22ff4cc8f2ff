"""The rendered-video egress with a real aiortc viewer on 127.0.0.1: VP8 video + Opus audio + state channel."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from engine import AvatarSDK
from engine.avatar.package import load_bundled
from engine.demo import SPEECH_CLIP
from engine.demo.audio import load_speech
from engine.plugins import get_plugin_manager
from engine.server.rtc.settings import RtcSettings
from engine.server.video.egress import VideoEgress
from engine.video import AvatarStream
from engine.video.media import AvatarMedia

from .viewer import Viewer

RATE = 16000  # the session's rate; the egress renders at 48 kHz
SIZE = 128


@pytest.fixture
async def egress():
    avatar = load_bundled("demo")
    stream = await AvatarStream.create(avatar, width=SIZE, height=SIZE, sample_rate=48000, backend="cpu",
                                       motion_generator=False)
    failures = []

    async def failed(code, message):
        failures.append((code, message))

    made = VideoEgress(connection_id="c1", app_id="app", sample_rate=RATE, settings=RtcSettings(join_timeout_s=30),
                       media=AvatarMedia(stream), on_failure=failed)
    made.failures = failures
    yield made
    await made.close()
    AvatarSDK.cleanup()


def session_round(egress: VideoEgress, req_id: str, pcm: np.ndarray, expression_count: int):
    """What a Motion Server session hands its egress for one round: audio chunks and their keyframes."""
    generator = get_plugin_manager().get("motion_generators", "procedural").factory(RATE, expression_count, 0)
    frames = 0
    step = RATE // 10
    for at in range(0, pcm.size, step):
        chunk = pcm[at:at + step]
        end = at + step >= pcm.size
        keyframes = generator.feed(chunk)
        if end:
            keyframes = np.concatenate([keyframes, generator.finish()])
        egress.audio(req_id, chunk, end)
        egress.motion(req_id, keyframes, frames, end)
        frames += keyframes.shape[0]
        yield


def mouth_darkness(rgb: np.ndarray) -> float:
    h, w = rgb.shape[:2]
    roi = rgb[int(0.62 * h):int(0.85 * h), int(0.35 * w):int(0.65 * w)].astype(np.float32)
    return float((roi.mean(axis=2) < 60).mean())


def envelope(items, value, start: float, stop: float, grid: float = 0.02) -> np.ndarray:
    """``value(data)`` of the items received in each ``grid`` slot of [start, stop), held over empty slots."""
    slots = np.full(int((stop - start) / grid), np.nan)
    for t, data in items:
        k = int((t - start) / grid)
        if 0 <= k < slots.size:
            slots[k] = value(data)
    for k in range(1, slots.size):
        if np.isnan(slots[k]):
            slots[k] = slots[k - 1]
    return np.nan_to_num(slots)


async def test_a_viewer_sees_the_face_speak_in_sync_with_the_audio_it_hears(egress):
    viewer = Viewer()
    try:
        await viewer.join(egress)
        for _ in range(300):
            if len(viewer.video) >= 10 and viewer.audio:
                break
            await asyncio.sleep(0.05)
        assert len(viewer.video) >= 10 and viewer.audio, "no media arrived"
        _, idle_frame = viewer.video[-1]
        assert idle_frame.shape == (SIZE, SIZE, 3)
        assert viewer.states[:1] == ["idle"]
        pcm, rate = load_speech(SPEECH_CLIP, RATE)
        pcm = pcm[: 3 * RATE]
        start = time.monotonic()
        for _ in session_round(egress, "r1", pcm, egress.media.stream.view.avatar.expression_count):
            await asyncio.sleep(0.05)  # a TTS twice as fast as real time
        for _ in range(600):  # 3 s of speech; longer only when this machine renders slower than real time
            if "playing" in viewer.states and viewer.states[-1] == "idle":
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        stop = time.monotonic()
        assert "playing" in viewer.states and viewer.states[-1] == "idle"
        mouth = envelope(viewer.video, mouth_darkness, start, stop)
        loud = envelope(viewer.audio, lambda a: 20 * np.log10(np.sqrt(np.mean(a.astype(float) ** 2)) + 1), start, stop)
        assert loud.max() > 40 and mouth.max() > 0.05  # speech was heard and the mouth opened
        lags = list(range(-6, 7))  # ±120 ms in 20 ms steps
        r = [np.corrcoef(mouth[max(0, k):mouth.size + min(0, k)], loud[max(0, -k):loud.size - max(0, k)])[0, 1]
             for k in lags]
        best = lags[int(np.argmax(r))]
        assert max(r) > 0.5, r
        assert abs(best) * 20 <= 40, (best, r)  # picture and sound agree within one video frame at the viewer
    finally:
        await viewer.close()


async def test_interrupt_silences_the_stream_within_a_frame_and_the_face_returns_to_idle(egress):
    viewer = Viewer()
    try:
        await viewer.join(egress)
        for _ in range(300):
            if viewer.audio:
                break
            await asyncio.sleep(0.05)
        pcm, _ = load_speech(SPEECH_CLIP, RATE)
        for _ in session_round(egress, "r1", pcm[: 4 * RATE], egress.media.stream.view.avatar.expression_count):
            pass
        for _ in range(200):
            if "playing" in viewer.states:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(1.0)
        egress.interrupt("r1")
        produced = egress.media.frames
        assert not egress.media.stream.speaking  # before the next frame
        for _ in range(400):
            if viewer.states[-1] == "idle" and egress.media.frames > produced + 10:
                break
            await asyncio.sleep(0.05)
        assert viewer.states[-1] == "idle"
        assert egress.media.frames > produced + 10  # idle video goes on
        tail = [a for t, a in viewer.audio[-10:]]
        assert max(np.abs(a).max() for a in tail) < 50  # silence after the interrupt
    finally:
        await viewer.close()


async def test_join_limits_and_a_closed_session_refuse_with_their_codes(egress):
    from engine.server.rtc.join_tokens import JoinRefused

    viewers = [Viewer(), Viewer(), Viewer()]
    try:
        await viewers[0].join(egress)
        await viewers[1].join(egress)
        with pytest.raises(JoinRefused) as info:
            await viewers[2].join(egress)
        assert info.value.code == "peerLimitExceeded"
        await egress.close()
        with pytest.raises(JoinRefused) as info:
            await Viewer().join(egress)
        assert info.value.code == "sessionNotFound"
    finally:
        for v in viewers:
            await v.close()
