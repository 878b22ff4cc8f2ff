"""A real backend for both server-held paths: Backend Mode over its own WebSocket, and the RTC path.

The backend is an aiohttp app that holds the API key and talks to ``facecast serve`` with the
server SDK (``engine.server_sdk``); its clients never see a Motion Server token.

- Backend Mode: a client opens ``GET /relay``; the backend starts a session with the WebSocket
  egress and relays, as binary frames of its own little protocol, the speech (``A`` + end flag +
  PCM16) and every animation message exactly as received (``M`` + bytes). The client hands them
  to ``yield_audio_data`` / ``yield_frames_data``.
- RTC path: a client asks ``POST /rtc``; the backend starts a session with ``egress="webrtc"`` and
  answers the join URL and join token; the client joins with ``RtcClient`` and the Motion Server
  pushes audio and motion to it directly.

``POST /say`` makes the backend speak a clip on every session it holds. Run it against a local
server (``facecast serve`` prints the App ID and API key)::

    FACECAST_APP_ID=... FACECAST_API_KEY=... FACECAST_AUDIO_SINK=virtual python examples/backend_relay.py
"""

from __future__ import annotations

import asyncio
import os
import sys

import aiohttp
import numpy as np
from aiohttp import web

from engine import AudioFormat, AvatarManager, AvatarSDK, AvatarView, Configuration, Offscreen
from engine.demo import SPEECH_CLIP
from engine.demo.audio import load_speech
from engine.server_sdk import new_avatar_session
from plugins.transport_rtc import RtcClient

RATE = 16000
CHUNK = RATE // 10  # 100 ms of PCM16 per message, as a TTS engine would stream it


class Backend:
    """The app's server: one Motion Server session per connected client."""

    def __init__(self, server_url: str, app_id: str, api_key: str, avatar_id: str = "demo") -> None:
        self.server_url = server_url.rstrip("/")
        self.app_id, self.api_key, self.avatar_id = app_id, api_key, avatar_id
        self.sessions: list[tuple] = []  # (SDK session, outbox to its Backend Mode client or None)
        self.runner: web.AppRunner | None = None
        self.url = ""

    def _session(self, **options):
        ws_base = self.server_url.replace("http", "ws", 1)
        return new_avatar_session(avatar_id=self.avatar_id, api_key=self.api_key, app_id=self.app_id,
                                  console_endpoint_url=f"{self.server_url}/v1/console",
                                  ingress_endpoint_url=f"{ws_base}/v2/driveningress", sample_rate=RATE, **options)

    async def relay(self, request: web.Request) -> web.WebSocketResponse:
        """Backend Mode: audio and the Motion Server's animation messages go to this client over our socket."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        outbox: asyncio.Queue[bytes] = asyncio.Queue(maxsize=1024)
        session = self._session(transport_frames=lambda data, last: outbox.put_nowait(b"M" + data))
        async with session:
            held = (session, outbox)
            self.sessions.append(held)
            forward = asyncio.create_task(_forward(outbox, ws))
            try:
                async for _ in ws:  # the client sends nothing; this returns when it leaves
                    pass
            finally:
                self.sessions.remove(held)
                forward.cancel()
        return ws

    async def rtc(self, request: web.Request) -> web.Response:
        """RTC path: start a WebRTC-egress session and give the client what it needs to join it."""
        session = self._session(egress="webrtc")
        await session.init()
        await session.start()
        self.sessions.append((session, None))
        return web.json_response({"joinUrl": session.join_url, "joinToken": session.join_token})

    async def say(self, request: web.Request) -> web.Response:
        """Speak the demo clip (its first ``seconds``) on every session, as fast as a TTS engine would."""
        pcm, _ = load_speech(SPEECH_CLIP, RATE)
        pcm = pcm[: int(float(request.query.get("seconds", "2")) * RATE)]
        await asyncio.gather(*(self._speak(session, outbox, pcm) for session, outbox in list(self.sessions)))
        return web.json_response({"sessions": len(self.sessions), "seconds": len(pcm) / RATE})

    async def _speak(self, session, outbox: asyncio.Queue | None, pcm: np.ndarray) -> None:
        for at in range(0, len(pcm), CHUNK):
            chunk, end = pcm[at:at + CHUNK].tobytes(), at + CHUNK >= len(pcm)
            if outbox is not None:  # Backend Mode: the client plays the audio we relay
                await outbox.put(b"A" + bytes([end]) + chunk)
            await session.send_audio(chunk, end=end)
            await asyncio.sleep(0.03)

    async def start(self, port: int = 0) -> str:
        app = web.Application()
        app.router.add_get("/relay", self.relay)
        app.router.add_post("/rtc", self.rtc)
        app.router.add_post("/say", self.say)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", port)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
        return self.url

    async def stop(self) -> None:
        for session, _ in list(self.sessions):
            await session.close()
        if self.runner is not None:
            await self.runner.cleanup()


async def _forward(outbox: asyncio.Queue, ws: web.WebSocketResponse) -> None:
    while True:
        await ws.send_bytes(await outbox.get())


async def backend_mode_client(view, backend_url: str, stats: dict) -> None:
    """A client in Backend Mode: plays what the backend relays over its WebSocket until it closes."""
    controller, cid = view.controller, None
    async with aiohttp.ClientSession() as http, http.ws_connect(f"{backend_url}/relay") as ws:
        stats["ready"].set()
        async for msg in ws:
            data = msg.data
            if data[:1] == b"A":
                started = controller.yield_audio_data(data[2:], end=bool(data[1]))
                cid = started or cid
            elif data[:1] == b"M" and cid is not None:
                controller.yield_frames_data([data[1:]], cid)
                stats["messages"] += 1


async def rtc_client(view, backend_url: str) -> RtcClient:
    """A client on the RTC path: ask the backend for a session, join its WebRTC egress."""
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{backend_url}/rtc") as response:
            join = await response.json()
    client = RtcClient(view.controller, join["joinUrl"], join["joinToken"])
    await client.start()
    return client


async def run(server_url: str, app_id: str, api_key: str, seconds: float = 2.0) -> dict:
    """Both paths side by side: a Backend Mode client and an RTC client hear the same speech."""
    await AvatarSDK.initialize(app_id, Configuration(driving_service_mode="backend", region="local",
                                                     audio_format=AudioFormat(sample_rate=RATE)))
    avatar = await AvatarManager.shared.load("demo")
    views = [AvatarView(avatar, Offscreen(128, 128), backend="cpu") for _ in range(2)]
    for view in views:
        view.controller.set_audio_sink(os.environ.get("FACECAST_AUDIO_SINK", "virtual"), real_time=True)
    backend = Backend(server_url, app_id, api_key)
    url = await backend.start()
    stats = {"messages": 0, "ready": asyncio.Event()}
    relay = asyncio.create_task(backend_mode_client(views[0], url, stats))
    client = None
    try:
        await asyncio.wait_for(stats["ready"].wait(), 10)
        client = await rtc_client(views[1], url)
        while len(backend.sessions) < 2:
            await asyncio.sleep(0.05)
        async with aiohttp.ClientSession() as http:
            await http.post(f"{url}/say", params={"seconds": str(seconds)})
        for view in views:
            await view.controller.wait_for_conversation_state("playing", timeout=10)
        for view in views:
            await view.controller.wait_for_conversation_state("idle", timeout=10 + seconds)
        return {"backend_mode": {"messages": stats["messages"], "heard_s": views[0].controller.get_audio_time()},
                "rtc": {"keyframes": client.stats["keyframes"], "heard_s": views[1].controller.get_audio_time()}}
    finally:
        if client is not None:
            await client.close()
        relay.cancel()
        await backend.stop()
        for view in views:
            view.dispose()
        AvatarSDK.cleanup()


if __name__ == "__main__":
    server = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8765"
    print(asyncio.run(run(server, os.environ["FACECAST_APP_ID"], os.environ["FACECAST_API_KEY"])))
