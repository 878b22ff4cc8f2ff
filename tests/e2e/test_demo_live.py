"""The live demo path: a glfw window under Xvfb and real-time audio into a PulseAudio null sink."""

from __future__ import annotations

import asyncio


from engine.demo import SPEECH_CLIP
from engine.demo.audio import load_speech
from engine.demo.live import audio_device_available, play_live
from engine.demo.stack import DemoStack
from engine.render.containers import Window
from engine.render.png import decode_png
from engine.render.view import AvatarView

from .test_direct_mode import mouth_darkness


async def test_live_window_speaks_in_real_time(xvfb_display, pulse_null_sink):
    pcm, rate = load_speech(SPEECH_CLIP)
    pcm = pcm[: int(2.5 * rate)]
    assert audio_device_available()
    async with DemoStack(rate) as stack:
        view = AvatarView(stack.avatar, Window(128, 128, "facecast live demo test"), backend="opengl")
        darkness = []

        async def watch():
            while True:
                png = await asyncio.to_thread(view.export_bitmap)
                if png is not None:
                    darkness.append(mouth_darkness(decode_png(png)))
                await asyncio.sleep(0.05)

        try:
            assert await asyncio.to_thread(view.wait_first_rendering, 60)
            closed = mouth_darkness(decode_png(await asyncio.to_thread(view.export_bitmap)))  # idle: lips together
            watcher = asyncio.create_task(watch())
            played = await play_live(view, pcm, rate, linger_s=0.2)
            watcher.cancel()
        finally:
            view.dispose()
    assert 2.4 <= played <= 4.5  # real time: the clip's length, plus the device's start-up
    # export_bitmap is slow on a loaded CPU, so only a few frames are sampled: one open mouth suffices.
    assert darkness and max(darkness) > closed + 0.015
