"""A Motion Server client written from protocol.md alone: ``websockets`` + the generated ``message_pb2``.

It deliberately uses none of the engine's wire helpers or the transport plugin, so tests built on
it check the server against the protocol, not against our own client code.
"""

from __future__ import annotations

import asyncio

import numpy as np
import websockets
from websockets.asyncio.client import ClientConnection, connect

from engine.wire import message_pb2 as pb

T = pb.MessageType


def configure(sample_rate: int = 16000, audio_format: int = pb.AUDIO_FORMAT_PCM_S16LE) -> bytes:
    msg = pb.Message(type=T.MESSAGE_TYPE_CLIENT_CONFIGURE_SESSION)
    msg.client_configure_session.sample_rate = sample_rate
    msg.client_configure_session.audio_format = audio_format
    return msg.SerializeToString()


def audio(req_id: str, pcm: bytes, end: bool = False) -> bytes:
    msg = pb.Message(type=T.MESSAGE_TYPE_CLIENT_AUDIO_INPUT)
    msg.client_audio_input.req_id = req_id
    msg.client_audio_input.audio = pcm
    msg.client_audio_input.end = end
    return msg.SerializeToString()


def interrupt(req_id: str) -> bytes:
    msg = pb.Message(type=T.MESSAGE_TYPE_CLIENT_INTERRUPT)
    msg.client_interrupt.req_id = req_id
    return msg.SerializeToString()


def parse(data: bytes) -> pb.Message:
    msg = pb.Message()
    msg.ParseFromString(data)
    return msg


def speech_like(seconds: float, sample_rate: int = 16000, seed: int = 0) -> bytes:
    """Syllable-rate amplitude-modulated voiced noise: loud and quiet stretches a mouth should follow."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    envelope = np.clip(np.sin(2 * np.pi * 2.5 * t), 0, None) ** 2
    voiced = np.sin(2 * np.pi * 140 * t) + 0.5 * np.sin(2 * np.pi * 700 * t) + 0.1 * rng.standard_normal(t.size)
    return (envelope * voiced * 9000).astype("<i2").tobytes()


async def open_session(url: str, headers: dict[str, str] | None = None, sample_rate: int = 16000) -> tuple[ClientConnection, str]:
    """Connect, configure, and return the socket and the confirmed connection id."""
    ws = await connect(url, additional_headers=headers or {}, max_size=None)
    await ws.send(configure(sample_rate))
    reply = parse(await asyncio.wait_for(ws.recv(), 10))
    if reply.type != T.MESSAGE_TYPE_SERVER_CONFIRM_SESSION:
        await ws.close()
        raise AssertionError(f"expected a confirm, got {reply}")
    return ws, reply.server_confirm_session.connection_id


async def recv_until_closed(ws: ClientConnection, timeout: float = 10) -> list[pb.Message]:
    """Every message until the server closes the socket."""
    out = []
    try:
        while True:
            out.append(parse(await asyncio.wait_for(ws.recv(), timeout)))
    except websockets.ConnectionClosed:
        return out


async def recv_round(ws: ClientConnection, req_id: str, timeout: float = 10) -> list[pb.Message]:
    """Animation messages of ``req_id`` up to and including the one with ``end=true``."""
    out = []
    while True:
        msg = parse(await asyncio.wait_for(ws.recv(), timeout))
        assert msg.type == T.MESSAGE_TYPE_SERVER_RESPONSE_ANIMATION, msg
        assert msg.server_response_animation.req_id == req_id
        out.append(msg)
        if msg.server_response_animation.end:
            return out
