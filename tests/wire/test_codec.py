"""The numba animation codec against the protobuf library, and its validation of malformed input."""

import numpy as np
import pytest

from engine import AvatarError, ErrorCode
from engine.wire import AnimationDecoder, decode_animation, encode_animation
from engine.wire import message_pb2 as pb
from engine.wire.messages import animation_message
from engine.wire.reference import decode_animation_reference

from .wirebytes import envelope, flame, key, ld, varint

IDS = ["", "r", "req-ü-🙂", "x" * 256]


def random_case(rng, expr_count):
    k = int(rng.integers(0, 30))
    kf = (rng.standard_normal((k, 20 + expr_count)) * 10 ** rng.uniform(-3, 3)).clip(-10, 10).astype(np.float32)
    kf[rng.random(kf.shape) < 0.05] = -0.0  # zeros and signed zeros are still serialized
    return (IDS[rng.integers(len(IDS))], IDS[rng.integers(len(IDS))], kf,
            int(rng.choice([0, 1, 127, 128, 2**32 - 1])), bool(rng.integers(2)))


@pytest.mark.parametrize("expr_count", [0, 1, 50, 100])
def test_encoder_is_byte_identical_to_protobuf_and_decoders_agree(expr_count):
    rng = np.random.default_rng(expr_count)
    dec = AnimationDecoder(expr_count, max_keyframes=64)
    for _ in range(40):
        conn, req, kf, start, end = random_case(rng, expr_count)
        data = encode_animation(conn, req, kf, start, end)
        assert data == animation_message(conn, req, kf, start, end).SerializeToString()
        ours, ref = dec.decode(data), decode_animation_reference(data, expr_count)
        assert (ours.req_id, ours.connection_id, ours.start_frame, ours.end) == (req, conn, start, end)
        assert (ref.req_id, ref.connection_id, ref.start_frame, ref.end) == (req, conn, start, end)
        assert ours.keyframes.tobytes() == ref.keyframes.tobytes() == kf.tobytes()


def test_non_packed_floats_unknown_fields_and_any_field_order_decode_like_protobuf():
    rng = np.random.default_rng(1)
    rows = rng.standard_normal((3, 25)).astype(np.float32)
    unknown = key(99, 0) + varint(2**40) + key(98, 1) + bytes(8) + key(97, 5) + bytes(4) + ld(96, b"\x01\x02")
    for packed in (True, False):
        data = envelope(rows, packed=packed, start_frame=9, end=True, unknown=unknown)
        ours, ref = decode_animation(data, 5), decode_animation_reference(data, 5)
        assert ours.keyframes.tobytes() == ref.keyframes.tobytes() == rows.tobytes()
        assert (ours.req_id, ours.connection_id, ours.start_frame, ours.end) == ("r", "c", 9, True)


def test_a_field_split_into_packed_and_unpacked_runs_concatenates():
    row = np.arange(20, dtype=np.float32) / 2  # within the ±10 motion range
    split = (ld(1, row[0:2].tobytes()) + key(1, 5) + row[2:3].tobytes()) + flame(row)[14:]
    data = key(1, 0) + b"\x05" + ld(6, ld(4, ld(1, split)))
    assert decode_animation(data, 0).keyframes.tobytes() == row.tobytes()
    assert decode_animation_reference(data, 0).keyframes.tobytes() == row.tobytes()


def test_repeated_payload_fields_merge_as_protobuf_does():
    rows = np.arange(2 * 20, dtype=np.float32).reshape(2, 20) / 4  # within the ±10 motion range
    first = ld(6, ld(2, b"old") + ld(4, ld(1, flame(rows[0]))))
    second = ld(6, ld(2, b"new") + ld(4, ld(1, flame(rows[1]))))
    data = key(1, 0) + b"\x05" + first + second
    ours, ref = decode_animation(data, 0), decode_animation_reference(data, 0)
    assert ours.req_id == ref.req_id == "new"
    assert ours.keyframes.tobytes() == ref.keyframes.tobytes() == rows.tobytes()
    # a different oneof member in between clears the animation, as protobuf does
    cleared = key(1, 0) + b"\x05" + first + ld(8, ld(1, b"x")) + second
    assert decode_animation(cleared, 0).keyframes.tobytes() == rows[1].tobytes()
    assert decode_animation_reference(cleared, 0).keyframes.tobytes() == rows[1].tobytes()


def test_bytearray_and_memoryview_payloads_decode_and_other_types_are_rejected():
    kf = np.ones((2, 21), np.float32)
    data = encode_animation("c", "r", kf, 0, False)
    dec = AnimationDecoder(1)
    assert dec.decode(bytearray(data)).keyframes.tobytes() == kf.tobytes()
    assert dec.decode(memoryview(data)).req_id == "r"
    with pytest.raises(AvatarError, match="must be the received bytes"):
        dec.decode(data.decode("latin-1"))


def test_batch_decodes_into_consecutive_rows_and_is_bounded():
    rng = np.random.default_rng(9)
    frames = [rng.normal(size=(k, 22)).astype(np.float32) for k in (3, 0, 5)]
    data = [encode_animation("c", f"r{i}", kf, 10 * i, i == 2) for i, kf in enumerate(frames)]
    dec = AnimationDecoder(2, max_keyframes=8)
    results = dec.decode_batch(data)
    assert [r.req_id for r in results] == ["r0", "r1", "r2"] and results[2].end
    for res, kf in zip(results, frames):
        assert res.keyframes.tobytes() == kf.tobytes()
    with pytest.raises(AvatarError, match="more than max_keyframes=8 keyframes"):
        dec.decode_batch(data + data[:1])


def test_decoder_reuses_its_buffer():
    dec = AnimationDecoder(0)
    a = dec.decode(encode_animation("c", "r", np.ones((2, 20), np.float32), 0, False)).keyframes
    dec.decode(encode_animation("c", "r", np.zeros((2, 20), np.float32), 2, False))
    assert a.base is not None and not a.any()


GOOD = encode_animation("c", "r", np.ones((2, 21), np.float32), 3, False)
ROW = np.ones(21, np.float32)


def bad_flame(payload: bytes) -> bytes:
    return key(1, 0) + b"\x05" + ld(6, ld(4, ld(1, payload)))


@pytest.mark.parametrize(("data", "fragment"), [
    (GOOD[:-5], "past the end"),
    (b"\x08", "truncated"),
    (b"\x08\x05\x4d\x00", "truncated"),
    (GOOD[:2] + b"\x32\xff\xff\x03" + GOOD[4:], "past the end"),
    (b"\x08" + b"\xff" * 11, "longer than 10 bytes"),
    (b"\x0d\x05\x00\x00\x00", "wrong wire type"),
    (bad_flame(key(1, 0) + b"\x01" + flame(ROW)[5:]), "wrong wire type"),
    (bad_flame(flame(ROW) + ld(2, bytes(4))), "more values"),
    (bad_flame(flame(ROW)[14:]), "fewer values"),
    (bad_flame(ld(1, np.array([0, np.nan, 0], "<f4").tobytes()) + flame(ROW)[14:]), "NaN or infinite"),
    (bad_flame(ld(1, np.array([0, np.inf, 0], "<f4").tobytes()) + flame(ROW)[14:]), "NaN or infinite"),
    (bad_flame(ld(1, bytes(5)) + flame(ROW)[14:]), "multiple of 4"),
    (b"\x08\x05" + key(50, 3), "group or an invalid wire type"),
    (b"\x08\x05" + key(0, 0) + b"\x00", "number 0"),
    (key(1, 0) + b"\x05" + ld(6, ld(2, b"r" * 257)), "longer than 256"),
    (key(1, 0) + b"\x05", "no server_response_animation"),
    (key(1, 0) + b"\x04" + ld(6, b""), "got type 4"),
    (key(1, 0) + b"\x05" + ld(6, ld(2, b"\xff\xfe")), "not valid UTF-8"),
])
def test_malformed_messages_raise_server_error_saying_what_is_wrong(data, fragment):
    with pytest.raises(AvatarError) as err:
        AnimationDecoder(1).decode(data)
    assert err.value.code is ErrorCode.serverError
    assert fragment in err.value.message


def test_expression_count_mismatch_is_invalid_avatar_metadata():
    with pytest.raises(AvatarError) as err:
        AnimationDecoder(3).decode(GOOD)
    assert err.value.code is ErrorCode.invalidAvatarMetadata and "1 expression values but the avatar has 3" in err.value.message


def test_too_many_keyframes_is_bounded():
    data = encode_animation("c", "r", np.zeros((9, 20), np.float32), 0, False)
    with pytest.raises(AvatarError, match="more than 8 keyframes"):
        AnimationDecoder(0, max_keyframes=8).decode(data)


def test_encoder_validates_its_input():
    with pytest.raises(AvatarError, match="NaN"):
        encode_animation("c", "r", np.full((1, 20), np.nan, np.float32), 0, False)
    with pytest.raises(AvatarError, match="shape"):
        encode_animation("c", "r", np.zeros((1, 19), np.float32), 0, False)
    with pytest.raises(AvatarError, match="uint32"):
        encode_animation("c", "r", np.zeros((1, 20), np.float32), -1, False)
    with pytest.raises(AvatarError, match="at most 256"):
        encode_animation("c" * 300, "r", np.zeros((1, 20), np.float32), 0, False)


def test_decoder_arguments_are_validated():
    with pytest.raises(AvatarError) as err:
        AnimationDecoder(101)
    assert err.value.code is ErrorCode.invalidAvatarMetadata
    with pytest.raises(AvatarError):
        AnimationDecoder(10, max_keyframes=0)


def test_message_type_is_the_protocol_constant():
    assert pb.MESSAGE_TYPE_SERVER_RESPONSE_ANIMATION == 5
