"""Playback benchmark: motion-to-audio offset of rendered poses, and the audio callback's cost.

Offset: a 60 fps render loop draws poses while speech plays. *Ours* computes each pose for the
audio clock (the sink's heard sample position, DAC time included) and we measure how far that
clock has moved by the time the pose is ready. The *baseline* is what a player without an
audio clock does: pose time = wall time since the audio was queued minus the stream's nominal
latency; we measure its distance from the audio clock at the same instant.

Callback cost: one 10 ms device callback (160 samples at 16 kHz) taken from our preallocated
lock-free ring vs a typical queue-of-chunks callback (``queue.Queue`` + ``np.concatenate``,
which locks and allocates), plus our callback when it also resamples 16 → 48 kHz.

    python -m benchmarks playback [--seconds 6] [--sink auto|sounddevice|virtual]
"""

from __future__ import annotations

import argparse
import asyncio
import queue
import time
import types

import numpy as np

from .report import Report, time_call

RATE = 16000


def _percentiles(values: list[float]) -> tuple[float, float]:
    a = np.abs(np.asarray(values))
    return float(np.percentile(a, 50)), float(np.percentile(a, 99))


async def _offsets(sink_name: str, seconds: float) -> tuple[list[float], list[float], str]:
    from engine import AvatarSDK, Configuration
    from engine.avatar.package import load_bundled
    from engine.playback.controller import AvatarController
    from engine.wire import encode_animation

    await AvatarSDK.initialize("bench", Configuration(driving_service_mode="backend",
                                                      audio_format={"sample_rate": RATE}))
    avatar = load_bundled("demo")
    options = {"real_time": True} if sink_name == "virtual" else {}
    ctl = AvatarController(avatar, audio_sink=sink_name, **options)
    rng = np.random.default_rng(0)
    frames = int(seconds * 25)
    kf = (rng.normal(size=(frames + 1, ctl._dim)) * 0.1).astype(np.float32)
    pcm = (np.sin(np.arange(int(seconds * RATE)) * 0.07) * 8000).astype("<i2").tobytes()
    cid = ctl.yield_audio_data(pcm, end=True)
    queued_at = time.monotonic()  # the naive player's t=0: its audio was just handed to the device
    ctl.yield_frames_data([encode_animation("c", "r", kf[i:i + 25], i, i + 25 >= frames)
                           for i in range(0, frames, 25)], cid)
    sink = ctl.audio_sink
    nominal = getattr(sink, "output_latency", None) or getattr(sink, "latency", 0.0) or 0.0
    out = np.zeros(ctl._dim, np.float32)
    ours, baseline = [], []
    tick = 1 / 60
    next_tick = time.monotonic()
    while ctl.conversation_state.value == "playing":
        ctl.frame_pose(out)
        naive_t = time.monotonic() - queued_at - nominal
        clock = ctl.get_audio_time()  # what is being heard as the frame is shown
        if ctl.pose_time is not None and 0.3 < clock < seconds - 0.1:
            ours.append((clock - ctl.pose_time) * 1e3)
            baseline.append((clock - naive_t) * 1e3)
        next_tick += tick
        await asyncio.sleep(max(0.0, next_tick - time.monotonic()))
    underruns = sink.underruns
    ctl.dispose()
    AvatarSDK.cleanup()
    return ours, baseline, f"{type(sink).__name__}, nominal latency {nominal * 1e3:.1f} ms, underruns {underruns}"


def _ring_callback():
    from engine.playback.simulated import SimulatedSink

    sink = SimulatedSink(RATE)
    block = np.zeros(160, np.float32)
    chunk = np.zeros(RATE, np.int16)

    ring = sink._ring

    def call():
        if ring.write_pos - ring.read_pos < 160:  # keep it fed (cheap check, as in the baseline)
            sink.write(chunk)
        sink._render(block, 0.0)

    return call


def _queue_callback():
    q: queue.Queue = queue.Queue()
    state = {"left": np.zeros(0, np.float32)}
    chunk = np.zeros(1600, np.int16)  # apps typically queue 100 ms chunks

    def call():
        if not state["left"].shape[0] and q.empty():  # keep it fed
            q.put(chunk)
        buf = state["left"]
        while buf.shape[0] < 160:
            buf = np.concatenate([buf, q.get_nowait().astype(np.float32) / 32768.0])
        out = buf[:160] * 1.0  # volume
        state["left"] = buf[160:]
        return out

    return call


def _resampling_callback():
    from plugins.sink_sounddevice import SoundDeviceSink

    sink = SoundDeviceSink(RATE, device_rate=48000)
    sink._prepare_resampler(48000, 480)
    out = np.zeros((480, 1), np.float32)
    info = types.SimpleNamespace(outputBufferDacTime=0.0, currentTime=0.0)
    status = types.SimpleNamespace(output_underflow=False)
    chunk = np.zeros(RATE, np.int16)

    ring = sink._ring

    def call():
        if ring.write_pos - ring.read_pos < 200:
            sink.write(chunk)
        sink._callback(out, 480, info, status)

    return call


def _pick_sink(choice: str) -> str:
    if choice != "auto":
        return choice
    try:
        import sounddevice as sd

        sd.query_devices(None, "output")
        return "sounddevice"
    except Exception:
        return "virtual"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks playback")
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--sink", default="auto", choices=("auto", "sounddevice", "virtual"))
    args = parser.parse_args(argv)
    report = Report("playback", "Playback: motion-to-audio offset and audio callback cost")
    sink = _pick_sink(args.sink)
    ours, base, how = asyncio.run(_offsets(sink, args.seconds))
    o50, o99 = _percentiles(ours)
    b50, b99 = _percentiles(base)
    report.add("motion-to-audio offset p50", "audio clock", o50, "wall clock - latency", b50, unit="ms")
    report.add("motion-to-audio offset p99", "audio clock", o99, "wall clock - latency", b99, unit="ms", budget=1.0)
    report.note(f"offsets over {len(ours)} frames at 60 fps, sink {sink} ({how})")
    for case, ours_fn, base_fn in (("callback, 160 samples", _ring_callback(), _queue_callback()),):
        a = time_call(ours_fn, repeat=20000, warmup=200)
        b = time_call(base_fn, repeat=20000, warmup=200)
        report.add(case + " (median)", "lock-free ring", a["median_ms"] * 1e3, "queue + concatenate",
                   b["median_ms"] * 1e3, unit="us")
        report.add(case + " (p90)", "lock-free ring", a["p90_ms"] * 1e3, "queue + concatenate",
                   b["p90_ms"] * 1e3, unit="us")
    r = time_call(_resampling_callback(), repeat=20000, warmup=200)
    report.add("callback + resample 16k->48k, 480 frames (median)", "ring + linear", r["median_ms"] * 1e3, unit="us")
    report.emit()
    return 0
