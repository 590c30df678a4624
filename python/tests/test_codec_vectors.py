"""Every test vector of interop-tests/vectors/ (except clocksync, which the clock tests run) through the
Python codec, read from the files: decode with the vector's context, and encode the JSON message back to
the vector's bytes (spec §5, §7, §8, §9.2; vectors/README.md "Running the vectors")."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from conftest import VECTORS, load_vectors
from spikewire.codec.framing import DEFAULT_MAX_FRAME, FrameDecoder, frame, split_frames
from spikewire.codec.jsonmap import batch_events_json, message_from_json, message_to_json
from spikewire.codec.messages import Batch, DecodeContext, decode_message, encode_message
from spikewire.codec.replay import SubscriberStream
from spikewire.errors import CODES, ProtocolError

VECTORS_ALL = load_vectors()
BY_KIND: dict[str, list[dict[str, Any]]] = {"message": [], "frame": [], "stream": []}
for _v in VECTORS_ALL:
    BY_KIND["stream" if "messages_hex" in _v else "frame" if "frame_hex" in _v else "message"].append(_v)
ENCODABLE = [v for v in VECTORS_ALL if not v["fail"] and "message" in v and not v.get("decode_only")]
BATCHES = [v for v in VECTORS_ALL if not v["fail"] and v.get("message", {}).get("type") == "batch"]


def ids(vectors: list[dict[str, Any]]) -> list[str]:
    return [v["id"] for v in vectors]


def context_of(v: dict[str, Any]) -> DecodeContext:
    c = v.get("context", {})
    return DecodeContext.make(kind=c.get("kind"), channels=c.get("channels"), max_events=c.get("max_events"),
                              filter=c.get("filter"))


def check_decoded(v: dict[str, Any], body: bytes) -> None:
    if v["fail"]:
        with pytest.raises(ProtocolError) as caught:
            decode_message(body, context_of(v))
        assert caught.value.code == v["code"]
        return
    message = decode_message(body, context_of(v))
    assert message_to_json(message) == v["message"]
    if "events" in v:
        assert isinstance(message, Batch)
        assert batch_events_json(message) == v["events"]


def test_the_vectors_are_there() -> None:
    # A broken path must not pass as "no vectors": every area of the README has vectors.
    areas = {v["id"].split("-")[0] for v in VECTORS_ALL}
    assert areas == {"framing", "cbor", "describe", "open", "accept", "reject", "batch", "watermark", "loss",
                     "close", "clock", "stream", "fuzz"}
    assert len(VECTORS_ALL) > 250
    assert all(v["code"] in CODES for v in VECTORS_ALL if v["fail"])
    assert VECTORS.is_dir()


@pytest.mark.parametrize("v", BY_KIND["message"], ids=ids(BY_KIND["message"]))
def test_decode_message(v: dict[str, Any]) -> None:
    check_decoded(v, bytes.fromhex(v["cbor_hex"]))


@pytest.mark.parametrize("v", BY_KIND["frame"], ids=ids(BY_KIND["frame"]))
def test_decode_frame(v: dict[str, Any]) -> None:
    data = bytes.fromhex(v["frame_hex"])
    max_frame = v.get("context", {}).get("max_frame", DEFAULT_MAX_FRAME)
    if v["fail"] and v["code"] in ("malformed-frame", "frame-too-large"):
        # Framing failures: whole, and delivered one byte at a time (chunks have no relation to frames).
        with pytest.raises(ProtocolError) as caught:
            split_frames(data, max_frame)
        assert caught.value.code == v["code"]
        decoder = FrameDecoder(max_frame)
        with pytest.raises(ProtocolError) as caught:
            for i in range(len(data)):
                decoder.feed(data[i:i + 1])
            decoder.finish()
        assert caught.value.code == v["code"]
        if v["code"] == "frame-too-large":
            # Decided from the prefix alone: the vector holds no body.
            assert len(data) <= 4
        return
    bodies = split_frames(data, max_frame)
    assert len(bodies) == 1
    if "cbor_hex" in v:
        assert bodies[0].hex() == v["cbor_hex"]
    decoder = FrameDecoder(max_frame)
    pieces = [b for i in range(0, len(data), 7) for b in decoder.feed(data[i:i + 7])]
    decoder.finish()
    assert pieces == bodies
    check_decoded(v, bodies[0])


@pytest.mark.parametrize("v", BY_KIND["stream"], ids=ids(BY_KIND["stream"]))
def test_stream(v: dict[str, Any]) -> None:
    c = v.get("context", {})
    stream = SubscriberStream(max_events=c.get("max_events", 4096), channel_filter=c.get("filter"))
    # The frames travel as one byte stream, as on the wire.
    wire = b"".join(frame(bytes.fromhex(h)) for h in v["messages_hex"])
    bodies = split_frames(wire)
    assert [b.hex() for b in bodies] == v["messages_hex"]
    for index, body in enumerate(bodies):
        if v["fail"] and index == v["fail_at"]:
            with pytest.raises(ProtocolError) as caught:
                stream.receive(body)
            assert caught.value.code == v["code"]
            return
        stream.receive(body)
    assert not v["fail"], "the failing message was accepted"
    assert stream.gap == v.get("gap", 0)
    assert stream.expected_seq == stream.received + stream.lost + stream.gap


@pytest.mark.parametrize("v", ENCODABLE, ids=ids(ENCODABLE))
def test_encode(v: dict[str, Any]) -> None:
    message = message_from_json(v["message"])
    body = encode_message(message)
    assert body.hex() == v["cbor_hex"]
    if "frame_hex" in v:
        assert frame(body).hex() == v["frame_hex"]


@pytest.mark.parametrize("v", BATCHES, ids=ids(BATCHES))
def test_batch_from_numpy_columns(v: dict[str, Any]) -> None:
    """Encoding a batch from its events as numpy arrays gives the vector's columns, byte for byte."""
    events = v["events"]
    channels = np.array([e[0] for e in events], dtype=np.uint32)
    times = np.array([e[1] for e in events], dtype=np.int64)
    values = np.array([e[2] for e in events], dtype=np.float32) if len(events[0]) == 3 else None
    m = v["message"]
    batch = Batch.from_arrays(m["seq"], channels, times, values, base=m["base"])
    assert encode_message(batch).hex() == v["cbor_hex"]
    decoded = decode_message(bytes.fromhex(v["cbor_hex"]), context_of(v))
    assert isinstance(decoded, Batch) and decoded.events is not None
    assert decoded.events.channels.dtype == np.uint32 and decoded.events.times.dtype == np.int64
    np.testing.assert_array_equal(decoded.events.channels, channels)
    np.testing.assert_array_equal(decoded.events.times, times)
    if values is None:
        assert decoded.events.values is None
    else:
        assert decoded.events.values is not None and decoded.events.values.dtype == np.float32
        np.testing.assert_array_equal(decoded.events.values, values)
