"""A WebRTC viewer as a browser would be: receive-only audio and video, the conversation-state channel."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import numpy as np
from aiortc import RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from engine.rtc.ice import IcePolicy, candidate_addresses, new_peer_connection, set_local_description
from engine.server.video.egress import STATE_CHANNEL


class Viewer:
    """A WebRTC viewer as a browser would be: receive-only audio and video, the state channel."""

    def __init__(self) -> None:
        self.pc = new_peer_connection()
        self.pc.addTransceiver("audio", direction="recvonly")
        self.pc.addTransceiver("video", direction="recvonly")
        self.states: list[str] = []
        channel = self.pc.createDataChannel(STATE_CHANNEL.label, negotiated=True, id=STATE_CHANNEL.id)
        channel.on("message", lambda m: self.states.append(json.loads(m)["conversationState"]))
        self.video: list[tuple[float, np.ndarray]] = []
        self.audio: list[tuple[float, np.ndarray]] = []
        self._tasks: list[asyncio.Task] = []
        self.pc.on("track", self._on_track)

    def _on_track(self, track) -> None:
        sink = self.video if track.kind == "video" else self.audio

        async def read() -> None:
            try:
                while True:
                    frame = await track.recv()
                    data = frame.to_ndarray(format="rgb24") if track.kind == "video" else frame.to_ndarray()
                    sink.append((time.monotonic(), data))
            except MediaStreamError:
                return

        self._tasks.append(asyncio.ensure_future(read()))

    async def offer(self) -> str:
        await set_local_description(self.pc, await self.pc.createOffer(), IcePolicy())
        assert set(candidate_addresses(self.pc.localDescription.sdp)) == {"127.0.0.1"}  # loopback only
        return self.pc.localDescription.sdp

    async def answer(self, sdp: str) -> None:
        assert set(candidate_addresses(sdp)) == {"127.0.0.1"}
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp, "answer"))

    async def join(self, egress) -> str:
        """Join an egress object directly (no HTTP)."""
        viewer_id, answer = await egress.join(await self.offer())
        await self.answer(answer)
        return viewer_id

    async def join_url(self, url: str, token: str) -> tuple[int, str]:
        """Join over WHEP: ``(HTTP status, body)``; on 201 the answer is applied."""
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/sdp"}
        async with aiohttp.ClientSession() as http:
            async with http.post(url, data=(await self.offer()).encode(), headers=headers) as response:
                status, body = response.status, await response.text()
        if status == 201:
            await self.answer(body)
        return status, body

    async def wait(self, condition, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"viewer: condition not met in {timeout} s (states {self.states}, "
                                     f"{len(self.video)} video / {len(self.audio)} audio frames)")
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        await self.pc.close()
        for task in self._tasks:
            task.cancel()
