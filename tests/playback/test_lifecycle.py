"""Callbacks: where they run, what happens when they raise; release on dispose and on garbage collection."""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
import time
import weakref

import numpy as np
import pytest

from engine.playback.controller import AvatarController

from .conftest import keyframes, payloads, tone


async def test_a_raising_callback_is_logged_and_playback_goes_on(ctl, caplog):
    seen = []

    def broken(state):
        seen.append(state)
        raise RuntimeError("app bug")

    ctl.on_conversation_state = broken
    with caplog.at_level(logging.ERROR, logger="facecast.playback.events"):
        cid = ctl.yield_audio_data(tone(0.2), end=True)
        ctl.yield_frames_data(payloads(keyframes(5)), cid)
        ctl.audio_sink.advance(4000)
        ctl.get_audio_time()
        for _ in range(3):
            await asyncio.sleep(0)
    assert [s.value for s in seen] == ["playing", "idle"]
    assert "app bug" in caplog.text and caplog.text.count("raised") == 2


async def test_async_callbacks_run_as_tasks_on_the_app_loop(ctl):
    got = []

    async def on_state(state):
        await asyncio.sleep(0)
        got.append((state.value, threading.get_ident()))

    ctl.on_conversation_state = on_state
    ctl.yield_audio_data(tone(0.1))
    for _ in range(5):
        await asyncio.sleep(0)
    assert got == [("playing", threading.get_ident())]


def test_without_a_loop_callbacks_run_on_the_dispatcher_thread(avatar):
    from engine import AvatarSDK, Configuration

    asyncio.run(AvatarSDK.initialize("test-app", Configuration(driving_service_mode="backend")))
    ctl = AvatarController(avatar, audio_sink="virtual", real_time=True)
    got = []
    done = threading.Event()

    def on_state(state):
        got.append((state.value, threading.current_thread().name))
        if state.value == "idle":
            done.set()

    ctl.on_conversation_state = on_state
    ctl.yield_audio_data(tone(0.1), end=True)  # real-time virtual device: ends by itself in 0.1 s
    assert done.wait(5.0)
    assert got == [("playing", "facecast-events"), ("idle", "facecast-events")]
    ctl.dispose()


async def test_callbacks_never_run_on_the_audio_thread(backend, avatar):
    ctl = AvatarController(avatar, audio_sink="virtual", real_time=True)
    threads = set()
    for name in ("on_conversation_state", "on_animation_state"):
        setattr(ctl, name, lambda value: threads.add(threading.current_thread().name))
    cid = ctl.yield_audio_data(tone(0.2), end=True)
    ctl.yield_frames_data(payloads(keyframes(5)), cid)
    deadline = time.monotonic() + 5
    while ctl.conversation_state.value != "idle" and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0)
    assert threads == {threading.current_thread().name}
    ctl.dispose()


async def test_a_dropped_controller_releases_its_device_and_threads(backend, avatar):
    before = {t.name for t in threading.enumerate()}
    ctl = AvatarController(avatar, audio_sink="virtual", real_time=True)
    ctl.yield_audio_data(tone(0.5))
    sink = ctl.audio_sink
    assert "facecast-controller" in {t.name for t in threading.enumerate()}
    ref = weakref.ref(ctl)
    del ctl
    gc.collect()
    assert ref() is None
    assert sink._closed
    deadline = time.monotonic() + 2
    while {t.name for t in threading.enumerate()} - before and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert {t.name for t in threading.enumerate()} - before == set()


async def test_dispose_releases_everything(backend, avatar):
    before = {t.name for t in threading.enumerate()}
    ctl = AvatarController(avatar, audio_sink="virtual", real_time=True)
    ctl.yield_audio_data(tone(0.5))
    ctl.dispose()
    assert {t.name for t in threading.enumerate()} - before == set()
    out = np.zeros(ctl._dim, np.float32)
    ctl.frame_pose(out)  # a view may still tick once while tearing down: idle, no error


async def test_a_state_can_be_awaited(backend, avatar):
    ctl = AvatarController(avatar, audio_sink="virtual", real_time=True)
    try:
        await ctl.wait_for_conversation_state("idle")  # already idle: returns at once
        ctl.yield_audio_data(tone(0.2), end=True)
        started = time.monotonic()
        await ctl.wait_for_conversation_state("idle", timeout=5.0)  # the round ends in real time
        assert 0.15 < time.monotonic() - started < 2.0
        with pytest.raises(asyncio.TimeoutError):
            await ctl.wait_for_conversation_state("paused", timeout=0.05)
        assert ctl._state_waiters == []
    finally:
        ctl.dispose()


async def test_a_virtual_sink_chosen_by_the_environment_plays_in_real_time(backend, avatar, monkeypatch):
    """FACECAST_AUDIO_SINK=virtual is how a machine without a sound card runs: its clock is real time."""
    monkeypatch.setenv("FACECAST_AUDIO_SINK", "virtual")
    controller = AvatarController(avatar)
    try:
        await controller.initialize_audio_context()
        assert controller.audio_sink.real_time
        controller.yield_audio_data(b"\x00\x01" * 1600, end=True)  # 0.1 s
        await controller.wait_for_conversation_state("idle", timeout=5)
        assert controller.audio_sink.played_samples() == 1600
    finally:
        controller.dispose()
