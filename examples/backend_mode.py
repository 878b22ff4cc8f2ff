"""Backend mode, end to end and offline: your server relays audio and motion, the SDK plays them.

Here the "backend" is simulated in-process: the built-in procedural motion generator makes the
animation messages a Motion Server would send. Run it with
``FACECAST_AUDIO_SINK=virtual python examples/backend_mode.py`` on a machine without a sound card.
"""

import asyncio
import sys
import wave
from pathlib import Path

import numpy as np

from engine import AvatarManager, AvatarSDK, AvatarView, Configuration, Offscreen
from engine.plugins import get_plugin_manager
from engine.wire import encode_animation

SPEECH = Path(__file__).resolve().parents[1] / "engine" / "demo" / "speech.wav"


def backend_relay(pcm16: bytes, expression_count: int) -> list[bytes]:
    """What your backend would receive from the Motion Server for this audio: raw animation messages."""
    generator = get_plugin_manager().get("motion_generators", "procedural").factory(16000, expression_count, 0)
    keyframes = np.concatenate([generator.feed(np.frombuffer(pcm16, "<i2")), generator.finish()])
    return [encode_animation("connection-1", "request-1", keyframes[i:i + 25], i, i + 25 >= len(keyframes))
            for i in range(0, len(keyframes), 25)]


async def main(out_png: str) -> None:
    await AvatarSDK.initialize("my-app", Configuration(driving_service_mode="backend"))
    avatar = await AvatarManager.shared.load("demo", on_progress=lambda p: print("load:", p.type.value, p.progress))
    view = AvatarView(avatar, Offscreen(512, 512))
    controller = view.controller
    controller.on_conversation_state = lambda state: print("conversation:", state.value)
    with wave.open(str(SPEECH)) as wav:
        pcm16 = wav.readframes(wav.getnframes())  # PCM16 mono at 16 kHz, the default audio format

    conversation_id = controller.yield_audio_data(pcm16, end=True)
    ended = controller.yield_frames_data(backend_relay(pcm16, avatar.expression_count), conversation_id)
    print("all motion received:", ended)
    await asyncio.sleep(1.0)
    Path(out_png).write_bytes(view.export_bitmap())  # the avatar mid-sentence
    await controller.wait_for_conversation_state("idle", timeout=30)
    view.dispose()
    AvatarSDK.cleanup()
    print("wrote", out_png)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "speaking.png"))
