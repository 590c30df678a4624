"""Hostile bytes never crash the codec: mutations of every vector's bytes either decode or raise
ProtocolError with a registry code (never another exception), and whatever decodes re-encodes to a
message that decodes to the same thing."""

from __future__ import annotations

import random

from conftest import load_vectors
from spikewire.codec.framing import FrameDecoder
from spikewire.codec.messages import DecodeContext, decode_message, encode_message
from spikewire.errors import CODES, ProtocolError

SOURCES = [bytes.fromhex(v["cbor_hex"]) for v in load_vectors() if "cbor_hex" in v]


def mutate(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 3, 8))):
        if not b:
            b.append(rng.randrange(256))
        p = rng.randrange(len(b))
        op = rng.random()
        if op < 0.35:
            b[p] = rng.randrange(256)
        elif op < 0.5:
            b[p] ^= 1 << rng.randrange(8)
        elif op < 0.65:
            b.insert(p, rng.randrange(256))
        elif op < 0.8:
            del b[p]
        elif op < 0.9:
            del b[p:]
        else:
            b[p:p] = b[p:p + rng.randrange(1, 16)]
    return bytes(b)


def test_mutated_vectors_decode_or_fail_with_a_code() -> None:
    rng = random.Random(20261207)
    contexts = [DecodeContext(), DecodeContext.make(kind="spike", channels=16, max_events=4096),
                DecodeContext.make(kind="weighted", channels=4, filter=[0, 2])]
    outcomes: dict[str, int] = {}
    for _ in range(6000):
        data = mutate(rng, rng.choice(SOURCES))
        context = rng.choice(contexts)
        try:
            message = decode_message(data, context)
        except ProtocolError as error:
            assert error.code in CODES
            assert len(str(error).encode("utf-8")) < 256
            outcomes[error.code] = outcomes.get(error.code, 0) + 1
            continue
        outcomes["ok"] = outcomes.get("ok", 0) + 1
        again = decode_message(encode_message(message), context)
        assert again == message
    # The mutations reach deep: most codes of the message layers occur.
    assert {"ok", "invalid-cbor", "invalid-message", "unknown-message-type"} <= outcomes.keys(), outcomes


def test_random_bytes_through_the_frame_decoder() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))
        decoder = FrameDecoder()
        try:
            for body in decoder.feed(data):
                try:
                    decode_message(body)
                except ProtocolError:
                    pass
            decoder.finish()
        except ProtocolError as error:
            assert error.code in ("malformed-frame", "frame-too-large")
