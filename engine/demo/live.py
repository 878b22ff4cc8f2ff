"""Live demo: a window and the real audio device (or a real-time virtual sink when there is none)."""

from __future__ import annotations

import asyncio
import logging

import numpy as np

from ..enums import ConversationState

log = logging.getLogger("facecast.demo")


def audio_device_available() -> bool:
    """Whether PortAudio is installed and offers an output device."""
    try:
        import sounddevice

        sounddevice.query_devices(kind="output")
        return True
    except Exception:  # no PortAudio library, or no output device: both mean "no audio here"
        return False


async def play_live(view, pcm: np.ndarray, sample_rate: int, *, linger_s: float = 1.5) -> float:
    """Speak ``pcm`` through ``view.controller`` in real time; returns the seconds it played."""
    controller = view.controller
    if audio_device_available():
        controller.set_audio_sink("sounddevice")
    else:
        log.warning("no audio output device: the demo plays silently on a real-time virtual sink")
        controller.set_audio_sink("virtual", real_time=True)
    await controller.initialize_audio_context()
    await controller.start()
    loop = asyncio.get_running_loop()
    started = loop.time()
    controller.send(pcm, end=True)
    limit = pcm.size / sample_rate + 20.0  # the speech plus generous slack for a slow start
    while controller.conversation_state == ConversationState.playing and loop.time() - started < limit:
        await asyncio.sleep(0.05)
    played = loop.time() - started
    await asyncio.sleep(linger_s)  # let the mouth settle into the idle loop on screen
    await controller.close()
    return played
