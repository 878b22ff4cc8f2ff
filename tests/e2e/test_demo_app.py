"""The live demo behaves like an app: it idles after the speech, speaks again on request, notices the
window closing, and says where the audio goes (a real window under Xvfb, a PulseAudio null sink)."""

from __future__ import annotations

import asyncio
import os

import glfw
import numpy as np
import pytest

from engine.demo import SPEECH_CLIP
from engine.demo.audio import load_speech
from engine.demo.live import Command, LiveApp
from engine.demo.stack import DemoStack
from engine.enums import ConversationState
from engine.render.containers import Window
from engine.render.view import AvatarView


async def _until(predicate, timeout: float) -> bool:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        if loop.time() > end:
            return False
        await asyncio.sleep(0.05)
    return True


@pytest.mark.slow
async def test_live_app_idles_replays_plays_a_path_and_ends_when_the_window_closes(
        xvfb_display, pulse_null_sink, tmp_path):
    pcm, rate = load_speech(SPEECH_CLIP)
    pcm = pcm[: int(1.0 * rate)]
    said = []
    read_fd, write_fd = os.pipe()
    async with DemoStack(rate) as stack:
        view = AvatarView(stack.avatar, Window(96, 96, "facecast app test"), backend="opengl")
        commands = os.fdopen(read_fd, "r")
        app = LiveApp(view, rate, lambda path: load_speech(path, rate)[0][: rate // 2], commands=commands,
                      say=said.append)
        controller = view.controller
        try:
            assert await asyncio.to_thread(view.wait_first_rendering, 60)
            task = asyncio.create_task(app.run(pcm))
            assert await _until(lambda: controller.conversation_state == ConversationState.playing, 30)
            assert await _until(lambda: controller.conversation_state == ConversationState.idle, 30)
            await asyncio.sleep(0.5)
            assert not task.done() and view.is_rendering_enabled()  # idles in its window after the speech

            on_key = app._callbacks[0]  # what glfw calls for a key press in the window
            on_key(None, glfw.KEY_R, 0, glfw.PRESS, 0)
            assert await _until(lambda: controller.conversation_state == ConversationState.playing, 30)
            assert await _until(lambda: controller.conversation_state == ConversationState.idle, 30)

            os.write(write_fd, f"{tmp_path / 'missing.wav'}\n{SPEECH_CLIP}\n".encode())  # a path typed on stdin
            assert await _until(lambda: any("speaking" in s and str(SPEECH_CLIP) in s for s in said), 30)
            assert await _until(lambda: controller.conversation_state == ConversationState.playing, 30)

            glfw.set_window_should_close(view.container.handle, True)  # what the window manager's close does
            summary = await asyncio.wait_for(task, 30)
        finally:
            os.close(write_fd)
            view.dispose()
    assert summary.reason == "window closed" and summary.spoken == 3
    assert said[0].startswith("audio: ") and "PortAudio" in said[0]  # where the audio goes
    assert any("cannot play" in s and "missing.wav" in s for s in said)  # a bad path is reported, not fatal
    assert 1.5 < summary.seconds < 10


async def test_quit_command_interrupts_the_speech(xvfb_display, pulse_null_sink):
    pcm, rate = load_speech(SPEECH_CLIP)
    async with DemoStack(rate) as stack:
        view = AvatarView(stack.avatar, Window(64, 64, "facecast app quit test"), backend="opengl")
        app = LiveApp(view, rate, lambda path: np.zeros(rate, np.int16), commands=None, say=lambda s: None)
        try:
            task = asyncio.create_task(app.run(pcm))
            assert await _until(lambda: view.controller.conversation_state == ConversationState.playing, 30)
            app.post(Command("quit", reason="quit key"))
            summary = await asyncio.wait_for(task, 15)
        finally:
            view.dispose()
    assert summary.reason == "quit key" and summary.seconds < pcm.size / rate
