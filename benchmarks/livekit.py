"""LiveKit Agents avatar: a long synthetic conversation through ``FacecastVideoGenerator``.

Speech segments (slices of the bundled clip, 1–6 s) separated by idle gaps, about one in five
interrupted half-way with ``clear_buffer()``, consumed exactly as ``AvatarRunner`` does (video and
audio frames in the order they are yielded). It reports:

- A/V offset: for every audio frame, (video frames since the segment's first audio frame) minus
  (audio frames since then), in ms — what a receiver's lip sync depends on; one frame is the limit.
- generator cost per video frame (render + composite + audio) against the frame period, the
  real-time budget it must beat;
- RSS, threads at warm-up end, middle and end of the conversation (flat within 5 % is the aim).

    python -m benchmarks livekit [--minutes 10] [--size 128] [--fps 25]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import threading
import time

import numpy as np

from .report import Report

RATE = 16000
QUICK_ARGV = ["--minutes", "1"]


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


async def _run(minutes: float, size: int, fps: int) -> dict:
    from livekit import rtc
    from livekit.agents.voice.avatar import AudioSegmentEnd

    from engine.demo import SPEECH_CLIP
    from engine.demo.audio import load_speech
    from plugins.livekit_avatar import FacecastVideoGenerator

    pcm, rate = load_speech(SPEECH_CLIP)
    assert rate == RATE
    gen = await FacecastVideoGenerator.create("demo", width=size, height=size, fps=fps, sample_rate=RATE,
                                              realtime=False)
    rng = np.random.default_rng(0)
    total_frames = int(minutes * 60 * fps)
    stream = gen.__aiter__()
    offsets, costs, samples = [], [], []
    interrupts = segments = 0
    frame = 0
    checkpoints = {int(total_frames * 0.1): "warm", total_frames // 2: "middle"}
    try:
        while frame < total_frames:
            seconds = rng.uniform(1.0, 6.0)
            start = int(rng.integers(0, pcm.size - RATE))
            seg = np.resize(np.roll(pcm, -start), int(seconds * RATE))
            for i in range(0, seg.size, 480):
                c = seg[i:i + 480]
                await gen.push_audio(rtc.AudioFrame(c.tobytes(), RATE, 1, c.size))
            await gen.push_audio(AudioSegmentEnd())
            segments += 1
            cut = int(seconds * fps / 2) if rng.random() < 0.2 else None
            video_in_seg = audio_in_seg = 0
            gap = int(rng.uniform(0.5, 3.0) * fps)
            idle_after = None
            while frame < total_frames:
                t0 = time.perf_counter()
                item = await stream.__anext__()
                if isinstance(item, rtc.VideoFrame):
                    costs.append(time.perf_counter() - t0)
                    frame += 1
                    if audio_in_seg or gen.speaking:
                        video_in_seg += 1
                    if frame in checkpoints:
                        samples.append((checkpoints[frame], _rss_mb(), threading.active_count()))
                    if idle_after is not None and frame >= idle_after:
                        break
                elif isinstance(item, rtc.AudioFrame):
                    audio_in_seg += 1
                    offsets.append((video_in_seg - audio_in_seg) * 1000.0 / fps)
                    if cut is not None and audio_in_seg == cut:
                        gen.clear_buffer()
                        interrupts += 1
                        idle_after = frame + gap
                elif isinstance(item, AudioSegmentEnd):
                    idle_after = frame + gap
    finally:
        samples.append(("end", _rss_mb(), threading.active_count()))
        await gen.aclose()
    return {"offsets": offsets, "costs": costs, "samples": samples, "frames": frame, "segments": segments,
            "interrupts": interrupts}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks livekit")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--fps", type=int, default=25)
    args = parser.parse_args(argv)
    from engine import AvatarSDK

    started = time.perf_counter()
    out = asyncio.run(_run(args.minutes, args.size, args.fps))
    AvatarSDK.cleanup()
    wall = time.perf_counter() - started
    report = Report("livekit", f"LiveKit VideoGenerator: {args.minutes:g} min synthetic conversation, "
                               f"{args.size}², {args.fps} fps, cpu-chosen backend")
    offsets = np.abs(np.asarray(out["offsets"]))
    costs = np.asarray(out["costs"][25:]) * 1e3  # after the first second (first-frame compile)
    period = 1000.0 / args.fps
    report.add("A/V offset max", f"{offsets.max():.1f} ms", float(offsets.max()), "1 frame",
               period, unit="ms", budget=period)
    report.add("frame p50", f"{np.median(costs):.1f} ms", float(np.median(costs)), "frame period", period,
               unit="ms", budget=period)
    report.add("frame p99", f"{np.percentile(costs, 99):.1f} ms", float(np.percentile(costs, 99)),
               "frame period", period, unit="ms")
    rss = {name: (mb, threads) for name, mb, threads in out["samples"]}
    warm, end = rss.get("warm", rss["end"])[0], rss["end"][0]
    growth = (end - warm) / warm * 100
    report.add("RSS growth", f"{growth:+.1f} %", abs(growth), unit="%", budget=5.0)
    report.note(f"{out['frames']} video frames, {out['segments']} segments, {out['interrupts']} interrupted, "
                f"{offsets.size} audio frames in {wall:.0f} s; RSS/threads "
                + ", ".join(f"{k} {mb:.0f} MB/{t}" for k, (mb, t) in rss.items()))
    report.note("Offset: video frames minus audio frames since each segment's first audio frame, as a receiver "
                "pairing the two streams sees it. No LiveKit server runs here: the frames are consumed in-process "
                "in AvatarRunner's order, not published to a room.")
    report.emit()
    return 0
