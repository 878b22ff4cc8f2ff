"""OGG_OPUS sessions: one Ogg Opus stream per round, decoded as it arrives (protocol.md)."""

from __future__ import annotations

import asyncio
import io

import av
import numpy as np
import pytest
import websockets

from engine.demo import SPEECH_CLIP
from engine.demo.audio import load_speech
from engine.server.codes import ServerErrorCode as E
from engine.server.opus import OggOpusDecoder, OggOpusError
from engine.wire import message_pb2 as pb

from .raw_client import T, audio, configure, parse, recv_round


def ogg_opus(pcm48: np.ndarray, channels: int = 1) -> bytes:
    """Encode 48 kHz PCM16 with libopus into an Ogg stream, as a browser's MediaRecorder would."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="ogg") as out:
        stream = out.add_stream("libopus", rate=48000)
        stream.layout = "mono" if channels == 1 else "stereo"
        data = np.repeat(pcm48.reshape(1, -1), channels, axis=0).T.reshape(1, -1) if channels == 2 else pcm48.reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data), format="s16", layout=stream.layout.name)
        frame.sample_rate, frame.pts = 48000, 0
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    return buf.getvalue()


@pytest.fixture(scope="module")
def speech():
    pcm48, _ = load_speech(SPEECH_CLIP, 48000)
    pcm48 = pcm48[: 48000 * 2]
    return pcm48, ogg_opus(pcm48)


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("rate", [16000, 48000])
def test_decoder_restores_the_exact_length_and_timing(speech, rate, channels):
    pcm48, _ = speech
    data = ogg_opus(pcm48, channels)
    decoder = OggOpusDecoder(rate)
    out = np.concatenate([decoder.feed(data[i:i + 500]) for i in range(0, len(data), 500)] + [decoder.finish()])
    reference = load_speech(SPEECH_CLIP, rate)[0][: 2 * rate]
    assert out.size == reference.size  # pre-skip and end padding removed
    env = lambda x: np.abs(x.astype(float)).reshape(-1, rate // 25).mean(axis=1)  # noqa: E731
    assert np.corrcoef(env(out), env(reference))[0, 1] > 0.99  # aligned to the 40 ms window


def test_decoder_refuses_what_is_not_ogg_opus(speech):
    with pytest.raises(OggOpusError):
        OggOpusDecoder(16000).feed(b"RIFF" + bytes(100))
    _, data = speech
    broken = bytearray(data)
    broken[28:36] = b"NotOpus!"  # the first packet is no longer OpusHead
    with pytest.raises(OggOpusError):
        OggOpusDecoder(16000).feed(bytes(broken))


async def test_opus_round_gives_the_same_keyframe_count_as_pcm(motion_server, speech):
    _, data = speech
    token = await motion_server.token()
    async with websockets.connect(motion_server.ingress_url(), additional_headers=motion_server.headers(token)) as ws:
        await ws.send(configure(16000, pb.AUDIO_FORMAT_OGG_OPUS))
        assert parse(await asyncio.wait_for(ws.recv(), 5)).type == T.MESSAGE_TYPE_SERVER_CONFIRM_SESSION
        for i in range(0, len(data), 1500):  # cuts that ignore page boundaries
            await ws.send(audio("o1", data[i:i + 1500], i + 1500 >= len(data)))
        msgs = await recv_round(ws, "o1")
        frames = [kf for m in msgs for kf in m.server_response_animation.animation.keyframes]
        assert len(frames) == 50  # 2 s of speech, as for PCM
        jaw = np.array([kf.jaw_pose[0] for kf in frames])
        pcm16 = load_speech(SPEECH_CLIP, 16000)[0][:32000]
        loud = 20 * np.log10(np.sqrt(np.square(pcm16.astype(float)).reshape(50, 640).mean(axis=1)) + 1)
        assert np.corrcoef(jaw, loud)[0, 1] > 0.7
        # A broken stream stops its round with an error; the next round works.
        await ws.send(audio("bad", b"this is not an ogg stream", True))
        error = parse(await asyncio.wait_for(ws.recv(), 5)).server_error
        assert (error.code, error.req_id) == (E.INVALID_ARGUMENT, "bad")
        await ws.send(audio("o2", data, True))
        assert sum(len(m.server_response_animation.animation.keyframes) for m in await recv_round(ws, "o2")) == 50


def test_decoder_refuses_a_second_stream_in_one_round(speech):
    _, data = speech
    second_page = data.index(b"OggS", 4)
    mixed = bytearray(data)
    mixed[second_page + 14:second_page + 18] = b"\x01\x02\x03\x04"  # the second page from another stream
    with pytest.raises(OggOpusError, match="one Ogg stream"):
        OggOpusDecoder(16000).feed(bytes(mixed))
