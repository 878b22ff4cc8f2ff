"""A backend written for the published ``spatius`` server SDK: one round, then a JSON line of what came back.

Run as ``python spatius_backend.py MODULE`` with FACECAST_TEST_* variables naming the server; MODULE
is ``spatius`` or ``engine.server_sdk`` — the same code, only the import differs. It runs in its own
process because both SDKs register a ``message.proto`` in protobuf's default pool, which refuses a
second file of that name.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import sys
from datetime import datetime, timedelta, timezone

import numpy as np


async def backend_round(sdk) -> dict:
    frames, done = [], asyncio.Event()

    def on_frames(data: bytes, last: bool) -> None:
        frames.append((len(data), last))
        if last:
            done.set()

    env = os.environ
    session = sdk.new_avatar_session(avatar_id="demo", api_key=env["FACECAST_TEST_API_KEY"],
                                     app_id=env["FACECAST_TEST_APP_ID"],
                                     console_endpoint_url=env["FACECAST_TEST_CONSOLE"],
                                     ingress_endpoint_url=env["FACECAST_TEST_INGRESS"], sample_rate=16000,
                                     expire_at=datetime.now(timezone.utc) + timedelta(minutes=10),
                                     transport_frames=on_frames)
    t = np.arange(16000) / 16000
    pcm = (8000 * np.sin(2 * np.pi * 180 * t) * (np.sin(2 * np.pi * 3 * t) > 0)).astype("<i2")
    async with session:
        req_id = ""
        for at in range(0, len(pcm), 3200):
            req_id = await session.send_audio(pcm[at:at + 3200].tobytes(), end=at + 3200 >= len(pcm))
        await asyncio.wait_for(done.wait(), 15)
    return {"req_id": bool(req_id), "messages": len(frames), "last": [last for _, last in frames],
            "bytes": sum(n for n, _ in frames)}


def main() -> None:
    sdk = importlib.import_module(sys.argv[1])
    sdk.configure_telemetry("")  # the published SDK exports telemetry to a public endpoint by default: never here
    print(json.dumps(asyncio.run(backend_round(sdk))), flush=True)


if __name__ == "__main__":
    main()
