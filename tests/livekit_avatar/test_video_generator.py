"""The LiveKit Agents avatar: real livekit-agents and livekit.rtc types, in-process (no LiveKit server)."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest
from livekit import rtc
from livekit.agents import AgentSession
from livekit.agents.voice.avatar import AudioSegmentEnd, QueueAudioOutput

from engine import AvatarError, AvatarSDK, Configuration, ErrorCode
from engine.demo import SPEECH_CLIP
from engine.demo.audio import load_speech
from engine.motion import layout
from engine.plugins import get_plugin_manager
from engine.config import DEFAULT_MOTION_GENERATOR
from plugins.livekit_avatar import AvatarSession, FacecastVideoGenerator

RATE = 16000
STEP = RATE // 25


def speech(seconds: float) -> np.ndarray:
    pcm, rate = load_speech(SPEECH_CLIP)
    assert rate == RATE
    return pcm[: int(seconds * rate)]


def frames_of(pcm: np.ndarray, rate: int = RATE, chunk: int = 480, channels: int = 1) -> list[rtc.AudioFrame]:
    """What a TTS pushes: 30 ms frames (the last one shorter)."""
    data = np.repeat(pcm, channels) if channels > 1 else pcm
    step = chunk * channels
    return [rtc.AudioFrame(data[i:i + step].tobytes(), rate, channels, data[i:i + step].size // channels)
            for i in range(0, data.size, step)]


async def push_segment(gen: FacecastVideoGenerator, pcm: np.ndarray, **kw) -> None:
    for frame in frames_of(pcm, **kw):
        await gen.push_audio(frame)
    await gen.push_audio(AudioSegmentEnd())


class Recorder:
    """Consumes the generator's stream; keeps what came out in order."""

    def __init__(self, gen: FacecastVideoGenerator) -> None:
        self.gen = gen
        self.items: list = []
        self.stream = gen.__aiter__()

    async def until(self, done, limit: int = 2000) -> None:
        for _ in range(limit):
            self.items.append(await self.stream.__anext__())
            if done(self):
                return
        raise AssertionError(f"stream did not reach the expected point in {limit} items")

    def kinds(self) -> str:
        return "".join("V" if isinstance(i, rtc.VideoFrame) else "A" if isinstance(i, rtc.AudioFrame) else "E"
                       for i in self.items)

    def audio(self, start: int = 0) -> np.ndarray:
        return np.concatenate([np.frombuffer(i.data, np.int16) for i in self.items[start:]
                               if isinstance(i, rtc.AudioFrame)])

    def ends(self) -> int:
        return sum(isinstance(i, AudioSegmentEnd) for i in self.items)


@pytest.fixture
async def make():
    made = []

    async def _make(size: int = 64, sample_rate: int = RATE, **options) -> FacecastVideoGenerator:
        gen = await FacecastVideoGenerator.create("demo", width=size, height=size, sample_rate=sample_rate,
                                                  backend="cpu", realtime=False, **options)
        made.append(gen)
        return gen

    yield _make
    for gen in made:
        await gen.aclose()


def padded(pcm: np.ndarray) -> np.ndarray:
    return np.concatenate([pcm, np.zeros(-pcm.size % STEP, np.int16)])


async def test_audio_and_video_advance_in_lockstep_and_the_audio_is_bit_exact(make):
    gen = await make()
    pcm = speech(1.5)
    await push_segment(gen, pcm)
    rec = Recorder(gen)
    await rec.until(lambda r: r.ends() == 1)
    await rec.until(lambda r: r.kinds().endswith("VV"))  # idle video goes on after the segment
    kinds = rec.kinds()
    audio_frames = int(np.ceil(pcm.size / STEP))
    # Every audio frame follows the video frame that starts at the same sample: offset 0.
    assert kinds == "VA" * audio_frames + "E" + "V" * (len(kinds) - 2 * audio_frames - 1)
    assert all(i.samples_per_channel == STEP and i.sample_rate == RATE
               for i in rec.items if isinstance(i, rtc.AudioFrame))
    np.testing.assert_array_equal(rec.audio(), padded(pcm))
    video = [i for i in rec.items if isinstance(i, rtc.VideoFrame)]
    assert {(v.width, v.height, v.type) for v in video} == {(64, 64, rtc.VideoBufferType.RGBA)}
    assert all(np.frombuffer(v.data, np.uint8)[3::4].min() == 255 for v in video)  # opaque: composited


def mouth_darkness(frame: rtc.VideoFrame) -> float:
    rgba = np.frombuffer(frame.data, np.uint8).reshape(frame.height, frame.width, 4)
    h, w = rgba.shape[:2]
    roi = rgba[int(0.62 * h):int(0.85 * h), int(0.35 * w):int(0.65 * w), :3].astype(np.float32)
    return float((roi.mean(axis=2) < 60).mean())


async def test_rendered_mouth_moves_with_the_audio_frame_it_is_paired_with(make):
    gen = await make(size=128)
    pcm = speech(3.0)
    await push_segment(gen, pcm)
    rec = Recorder(gen)
    await rec.until(lambda r: r.ends() == 1)
    pairs = [(rec.items[k - 1], item) for k, item in enumerate(rec.items) if isinstance(item, rtc.AudioFrame)]
    dark = np.array([mouth_darkness(v) for v, _ in pairs])
    # The jaw the stream's own motion generator makes for this audio: keyframe k covers audio frame k.
    motion = get_plugin_manager().get("motion_generators", DEFAULT_MOTION_GENERATOR).factory(RATE, 50, 0)
    jaw = np.concatenate([motion.feed(pcm), motion.finish()])[: dark.size, layout.JAW.start]
    lags = range(-3, 4)
    r = [np.corrcoef(dark[max(0, k):dark.size + min(0, k)], jaw[max(0, -k):jaw.size - max(0, k)])[0, 1]
         for k in lags]
    best = list(lags)[int(np.argmax(r))]
    assert max(r) > 0.6, r
    assert abs(best) <= 1, (best, r)  # the pose on each video frame is the one of its own audio


async def test_segments_queue_behind_each_other_instead_of_interrupting(make):
    gen = await make()
    first, second = speech(0.9), speech(1.6)[int(0.9 * RATE):]
    await push_segment(gen, first)
    await push_segment(gen, second)
    rec = Recorder(gen)
    await rec.until(lambda r: r.ends() == 2)
    np.testing.assert_array_equal(rec.audio(), np.concatenate([padded(first), padded(second)]))
    kinds = rec.kinds()
    assert kinds.count("E") == 2 and kinds.endswith("AE")


async def test_clear_buffer_stops_the_speech_before_the_next_frame(make):
    gen = await make()
    await push_segment(gen, speech(3.0))
    rec = Recorder(gen)
    await rec.until(lambda r: r.kinds().count("A") == 10)
    gen.clear_buffer()
    at = len(rec.items)
    await rec.until(lambda r: r.kinds()[at:].count("V") == 5)
    assert rec.kinds()[at:] == "VVVVV"  # no audio, no segment end: the runner reports the interruption
    again = speech(0.5)
    await push_segment(gen, again)
    at = len(rec.items)
    await rec.until(lambda r: r.ends() == 1)
    np.testing.assert_array_equal(rec.audio(at), padded(again))  # the next segment starts at its own first sample


async def test_other_rates_and_channel_counts_are_resampled_to_the_engine_rate(make):
    gen = await make(sample_rate=24000)
    pcm = speech(1.0)
    stereo48 = np.repeat(pcm, 3)  # 48 kHz by sample repetition: same duration
    await push_segment(gen, stereo48, rate=48000, chunk=1440, channels=2)
    rec = Recorder(gen)
    await rec.until(lambda r: r.ends() == 1)
    out = rec.audio()
    assert abs(out.size - 24000) <= 960 + 200  # one second, up to one frame of padding and filter delay
    assert np.abs(out).max() > 1000


async def test_push_audio_waits_while_too_much_is_queued(make):
    gen = await make(max_queued_s=0.5)
    pushing = asyncio.ensure_future(push_segment(gen, speech(1.5)))
    await asyncio.sleep(0.2)
    assert not pushing.done()  # back-pressure on the TTS, not an unbounded queue
    rec = Recorder(gen)
    await rec.until(lambda r: pushing.done() and r.ends() == 1)
    await pushing
    assert rec.audio().size == padded(speech(1.5)).size


async def test_bad_input_is_an_avatar_error(make):
    gen = await make()
    with pytest.raises(AvatarError) as info:
        await gen.push_audio(b"\x00\x01")
    assert info.value.code == ErrorCode.playbackStartFailed
    with pytest.raises(AvatarError):
        gen.__aiter__(), gen.__aiter__()


async def test_the_sdk_in_direct_mode_is_refused_with_a_clear_error():
    await AvatarSDK.initialize("app", Configuration())
    with pytest.raises(AvatarError, match="backend mode"):
        await FacecastVideoGenerator.create("demo", width=64, height=64, sample_rate=16000)


async def test_avatar_session_takes_over_the_agents_audio_output_and_closes_cleanly():
    threads = set(threading.enumerate())
    agent = AgentSession()
    room = rtc.Room()  # never connected: no LiveKit server runs here
    avatar = AvatarSession(width=64, height=64, sample_rate=RATE, backend="cpu", realtime=False)
    await avatar.start(agent, room)
    try:
        assert isinstance(agent.output.audio, QueueAudioOutput) and agent.output.audio is avatar.audio_output
        assert avatar.provider == "facecast" and avatar.avatar_identity == ""
        for frame in frames_of(speech(0.3)):
            await avatar.audio_output.capture_frame(frame)
        for _ in range(200):  # the runner's reader task hands the agent's audio to the generator
            if avatar.generator.queued_seconds > 0 or avatar.generator.speaking:
                break
            await asyncio.sleep(0.01)
        # queued, or already handed over by the runner's first (unpublished) frame
        assert avatar.generator.queued_seconds > 0 or avatar.generator.speaking
    finally:
        await avatar.aclose()
    for _ in range(100):
        if not {t for t in set(threading.enumerate()) - threads if t.name.startswith("facecast")}:
            break
        await asyncio.sleep(0.05)
    assert not {t.name for t in set(threading.enumerate()) - threads if t.name.startswith("facecast")}
