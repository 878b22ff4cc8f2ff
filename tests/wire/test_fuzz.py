"""Fuzzing the numba decoder: random and mutated bytes never crash it; whatever it accepts, protobuf reads the same."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import AvatarError
from engine.wire import AnimationDecoder, encode_animation
from engine.wire.reference import decode_animation_reference

from .wirebytes import envelope

E = 4
_rng = np.random.default_rng(7)
SEEDS = [
    encode_animation("conn", "req-1", _rng.standard_normal((3, 20 + E)).astype(np.float32), 5, True),
    encode_animation("", "", np.zeros((1, 20 + E), np.float32), 0, False),
    envelope(_rng.standard_normal((2, 20 + E)).astype(np.float32), packed=False, start_frame=300, end=True),
]
DECODER = AnimationDecoder(E, max_keyframes=8)


def check(data: bytes) -> None:
    """Decode must either succeed or raise AvatarError; on success protobuf must agree if it parses too."""
    try:
        ours = DECODER.decode(data)
    except AvatarError:
        return
    try:
        ref = decode_animation_reference(data, E, max_keyframes=8)
    except AvatarError:
        return  # protobuf rejects some content we skip without parsing (e.g. inside other oneof members)
    assert (ours.req_id, ours.connection_id, ours.start_frame, ours.end) == \
        (ref.req_id, ref.connection_id, ref.start_frame, ref.end)
    assert ours.keyframes.tobytes() == ref.keyframes.tobytes()


def mutate(data: bytes, rng: np.random.Generator) -> bytes:
    buf = bytearray(data)
    for _ in range(int(rng.integers(1, 4))):
        op = int(rng.integers(5))
        at = int(rng.integers(len(buf) + 1))
        if op == 0 and buf:
            buf[min(at, len(buf) - 1)] = int(rng.integers(256))
        elif op == 1:
            buf[at:at] = rng.bytes(int(rng.integers(1, 6)))
        elif op == 2:
            del buf[at:at + int(rng.integers(1, 6))]
        elif op == 3:
            del buf[at:]
        elif buf:  # flip a single bit: length prefixes and keys change subtly
            i = min(at, len(buf) - 1)
            buf[i] ^= 1 << int(rng.integers(8))
    return bytes(buf)


FUZZ = settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=600))
def test_random_bytes_never_crash(data):
    check(data)


@FUZZ
@given(st.sampled_from(SEEDS), st.integers(0, 2**32 - 1))
def test_mutated_messages_never_crash_and_agree_with_protobuf(seed, mutation_seed):
    check(mutate(seed, np.random.default_rng(mutation_seed)))


@FUZZ
@given(st.sampled_from(SEEDS), st.lists(st.tuples(st.integers(0, 10**6), st.binary(min_size=1, max_size=4)), max_size=4))
def test_spliced_bytes_never_crash(seed, edits):
    buf = bytearray(seed)
    for at, chunk in edits:
        at %= len(buf) + 1
        buf[at:at + len(chunk)] = chunk
    check(bytes(buf))


def test_hundred_thousand_random_and_mutated_byte_strings_never_crash():
    rng = np.random.default_rng(2024)
    accepted = rejected = 0
    for i in range(100_000):
        if i % 4 == 0:
            data = rng.bytes(int(rng.integers(0, 200)))
        else:
            data = mutate(SEEDS[i % len(SEEDS)], rng)
        try:
            DECODER.decode(data)
            accepted += 1
        except AvatarError:
            rejected += 1
    assert accepted + rejected == 100_000 and accepted > 0 and rejected > 0
