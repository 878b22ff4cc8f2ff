"""The protobuf message helpers: every builder round-trips through parse_message; garbage is an AvatarError."""

import numpy as np
import pytest

from engine import AvatarError, ErrorCode
from engine.wire import message_pb2 as pb
from engine.wire import messages


def test_configure_session_round_trip():
    msg = messages.parse_message(messages.configure_session(24000, extra_params={"voice": "a"}))
    assert msg.type == pb.MESSAGE_TYPE_CLIENT_CONFIGURE_SESSION
    cfg = msg.client_configure_session
    assert (cfg.sample_rate, cfg.audio_format, dict(cfg.extra_params)) == (24000, pb.AUDIO_FORMAT_PCM_S16LE, {"voice": "a"})


def test_configure_session_rejects_unsupported_sample_rate():
    with pytest.raises(AvatarError) as err:
        messages.configure_session(11025)
    assert err.value.code is ErrorCode.playbackInitFailed and "11025" in err.value.message


def test_confirm_audio_error_interrupt_round_trip():
    assert messages.parse_message(messages.confirm_session("conn-1")).server_confirm_session.connection_id == "conn-1"
    audio = messages.parse_message(messages.audio_input("r1", b"\x01\x02", end=True, traceparent="00-ab"))
    body = audio.client_audio_input
    assert (body.req_id, body.end, body.audio, body.trace_context.traceparent) == ("r1", True, b"\x01\x02", "00-ab")
    err = messages.parse_message(messages.server_error(messages.ERROR_UNAUTHENTICATED, "bad token", req_id="r1"))
    assert (err.server_error.code, err.server_error.message, err.server_error.req_id) == (16, "bad token", "r1")
    assert messages.parse_message(messages.interrupt("r9")).client_interrupt.req_id == "r9"


def test_empty_ids_are_rejected_where_the_protocol_needs_them():
    with pytest.raises(AvatarError):
        messages.confirm_session("")
    with pytest.raises(AvatarError):
        messages.audio_input("", b"")


def test_animation_message_uses_the_motion_layout():
    kf = np.arange(2 * 23, dtype=np.float32).reshape(2, 23)
    msg = messages.parse_message(messages.animation_message("c", "r", kf, 4, True).SerializeToString())
    anim = msg.server_response_animation.animation
    assert anim.start_frame == 4 and len(anim.keyframes) == 2
    assert list(anim.keyframes[1].jaw_pose) == [32.0, 33.0, 34.0]
    assert list(anim.keyframes[1].expression) == [43.0, 44.0, 45.0]


@pytest.mark.parametrize("data", [b"\xff\xff\xff", b"\x0a\x05ab", b"\x08"])
def test_parse_message_rejects_garbage(data):
    with pytest.raises(AvatarError) as err:
        messages.parse_message(data)
    assert err.value.code is ErrorCode.serverError


def test_parse_message_rejects_type_payload_mismatch_and_unknown_types():
    wrong = pb.Message(type=pb.MESSAGE_TYPE_SERVER_ERROR)
    wrong.client_interrupt.req_id = "x"
    with pytest.raises(AvatarError, match="carries client_interrupt instead of server_error"):
        messages.parse_message(wrong.SerializeToString())
    with pytest.raises(AvatarError, match="unknown type"):
        messages.parse_message(b"")
