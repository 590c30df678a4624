"""Columnar batches and framing (spec §5, §8.6): vectorised LEB128 against a plain reference, the check
order of §7.5 step 6, numpy dtypes, and a frame decoder fed in random chunks."""

from __future__ import annotations

import random
from typing import Callable

import numpy as np
import pytest

from spikewire.codec.batch import (
    CH_BOUNDS, DT_BOUNDS, MAX_TIME, decode_varints, encode_events, encode_varints, event_times,
)
from spikewire.codec.bench import bench_codec
from spikewire.codec.framing import FrameDecoder, encode_prefix, frame, split_frames
from spikewire.codec.messages import (
    Batch, Close, DecodeContext, Kind, MessageType, Watermark, decode_message, encode_message,
)
from spikewire.errors import ProtocolError


def reference_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def code_of(call: Callable[[], object]) -> str:
    with pytest.raises(ProtocolError) as caught:
        call()
    return caught.value.code


def test_varints_match_a_plain_reference_at_every_width() -> None:
    rng = random.Random(7)
    values = [0, 1, 127, 128, 16383, 16384, 2**21 - 1, 2**21, 2**28, 2**32 - 1, 2**35, 2**49, MAX_TIME]
    values += [rng.randrange(0, 1 << rng.randrange(1, 54)) for _ in range(5000)]
    encoded = encode_varints(np.array(values, dtype=np.uint64))
    assert encoded == b"".join(reference_varint(v) for v in values)
    decoded = decode_varints(encoded, len(values), DT_BOUNDS, "dt")
    assert decoded.tolist() == values


@pytest.mark.parametrize("column, count, bounds, code", [
    ("8000", 1, CH_BOUNDS, "invalid-varint"),              # not minimal
    ("ffffffff0f", 1, CH_BOUNDS, "ok"),                   # 2^32 - 1 in 5 bytes
    ("8080808010", 1, CH_BOUNDS, "invalid-varint"),        # 2^32
    ("808080808001", 1, CH_BOUNDS, "invalid-varint"),      # 6 bytes
    ("ffffffffffffff0f", 1, DT_BOUNDS, "ok"),             # 2^53 - 1 in 8 bytes
    ("8080808080808010", 1, DT_BOUNDS, "invalid-varint"),  # 2^53
    ("80", 1, CH_BOUNDS, "invalid-varint"),                # cut off
    ("0080", 2, CH_BOUNDS, "invalid-varint"),              # cut off after a valid one
    ("8000" + "00", 1, CH_BOUNDS, "invalid-varint"),       # invalid varint wins over the count
    ("0000", 1, CH_BOUNDS, "column-mismatch"),
    ("", 1, CH_BOUNDS, "column-mismatch"),
    ("8001", 2, CH_BOUNDS, "column-mismatch"),
])
def test_varint_column_rules(column: str, count: int, bounds: tuple[int, int], code: str) -> None:
    def run() -> object:
        return decode_varints(bytes.fromhex(column), count, bounds, "x")

    if code == "ok":
        assert decode_varints(bytes.fromhex(column), count, bounds, "x").size == count
    else:
        assert code_of(run) == code


def test_event_times_detect_overflow_even_where_int64_would_wrap() -> None:
    deltas = np.full(4096, MAX_TIME, dtype=np.uint64)
    assert code_of(lambda: event_times(0, deltas)) == "time-overflow"
    assert code_of(lambda: event_times(MAX_TIME, np.array([0, 1], dtype=np.uint64))) == "time-overflow"
    assert event_times(MAX_TIME, np.zeros(3, dtype=np.uint64)).tolist() == [MAX_TIME] * 3
    assert event_times(5, np.array([0, 2, 0, 3], dtype=np.uint64)).tolist() == [5, 7, 7, 10]


def batch_body(count: int = 2, ch: str = "0001", dt: str = "0001", val: str | None = None, seq: int = 0,
               base: int = 1000) -> bytes:
    return encode_message(Batch(seq, base, count, bytes.fromhex(ch), bytes.fromhex(dt),
                                None if val is None else bytes.fromhex(val)))


def test_batch_contents_are_checked_in_the_order_of_7_5() -> None:
    spike = DecodeContext.make(kind="spike", channels=1, max_events=4096)
    weighted = DecodeContext.make(kind="weighted", channels=1)
    # too-many-events before kind-mismatch and before the columns are looked at.
    assert code_of(lambda: decode_message(batch_body(4097, "80", "80", "00"), spike)) == "too-many-events"
    assert code_of(lambda: decode_message(batch_body(2, "80", "80", "00"), spike)) == "kind-mismatch"
    assert code_of(lambda: decode_message(batch_body(2, "80", "80"), weighted)) == "kind-mismatch"
    # ch before dt, dt before val, val before time-overflow, time-overflow before channel-out-of-range.
    assert code_of(lambda: decode_message(batch_body(2, "0580", "80", "00"), weighted)) == "invalid-varint"
    assert code_of(lambda: decode_message(batch_body(2, "05", "80"), spike)) == "column-mismatch"
    assert code_of(lambda: decode_message(batch_body(2, "0505", "80"), spike)) == "invalid-varint"
    assert code_of(lambda: decode_message(batch_body(2, "0505", "0000", "00"), weighted)) == "column-mismatch"
    nan = "0000c07f" * 2
    assert code_of(lambda: decode_message(batch_body(2, "0505", "0000", nan), weighted)) == "invalid-message"
    over = batch_body(2, "0505", "00ffffffffffffff0f", base=5)
    assert code_of(lambda: decode_message(over, spike)) == "time-overflow"
    assert code_of(lambda: decode_message(batch_body(2, "0505", "0000"), spike)) == "channel-out-of-range"
    # The stream state comes before the batch contents (§7.5 step 5 before step 6).
    closed = DecodeContext.make(expected=(), kind="spike", channels=1, max_events=4096)
    assert code_of(lambda: decode_message(batch_body(4097, "80", "80", "00"), closed)) == "unexpected-message"


def test_decoded_columns_are_numpy_arrays() -> None:
    channels = np.array([3, 0, 200, 70000, 2**32 - 1], dtype=np.uint32)
    times = np.array([10, 10, 500, 2**40, MAX_TIME], dtype=np.int64)
    values = np.array([0.5, -1.5, 3.4028234663852886e38, 1e-45, 0.0], dtype=np.float32)
    body = encode_message(Batch.from_arrays(42, channels, times, values))
    batch = decode_message(body, DecodeContext.make(kind="weighted"))
    assert isinstance(batch, Batch) and batch.events is not None and len(batch.events) == 5
    assert batch.events.channels.dtype == np.uint32
    assert batch.events.times.dtype == np.int64
    assert batch.events.values is not None and batch.events.values.dtype == np.float32
    np.testing.assert_array_equal(batch.events.channels, channels)
    np.testing.assert_array_equal(batch.events.times, times)
    np.testing.assert_array_equal(batch.events.values, values)
    assert batch.seq == 42 and batch.base == 10


def test_channel_filter() -> None:
    body = encode_message(Batch.from_arrays(0, np.array([5, 9, 5]), np.array([1, 2, 3])))
    ok = DecodeContext.make(channels=16, filter=[1, 5, 9])
    decoded = decode_message(body, ok)
    assert isinstance(decoded, Batch) and decoded.events is not None
    for allowed in ([5], [9, 10], [0, 1, 2], [10, 11]):
        assert code_of(lambda: decode_message(body, DecodeContext.make(filter=allowed))) == "channel-out-of-range"


@pytest.mark.parametrize("channels, times, values, base", [
    ([], [], None, None),
    ([1], [1, 2], None, None),
    ([1, 2], [5, 4], None, None),
    ([-1], [1], None, None),
    ([2**32], [1], None, None),
    ([1], [MAX_TIME + 1], None, None),
    ([1], [5], None, 6),
    ([1], [5], [float("nan")], None),
    ([1.0], [5], None, None),
])
def test_encode_events_refuses_what_a_sender_must_not_send(channels, times, values, base) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        encode_events(np.array(channels), np.array(times, dtype=np.int64), values, base)


def test_frame_decoder_in_random_chunks() -> None:
    rng = random.Random(3)
    messages = [Watermark(i, 1000 + i) for i in range(200)] + [Close(0, "é" * 100)]
    bodies = [encode_message(m) for m in messages] + [b"\x00" * 300, b"\x01" * 20000]
    wire = b"".join(frame(b) for b in bodies)
    for _ in range(20):
        decoder = FrameDecoder()
        got: list[bytes] = []
        pos = 0
        while pos < len(wire):
            step = rng.choice([1, 2, 3, 5, 64, 4096, 70000])
            got += decoder.feed(wire[pos:pos + step])
            pos += step
        decoder.finish()
        assert got == bodies
        assert decoder.buffered == 0


def test_frame_decoder_limits() -> None:
    assert encode_prefix(1_048_576).hex() == "808040"
    assert code_of(lambda: split_frames(bytes.fromhex("818040"))) == "frame-too-large"
    # Decided from the prefix alone: no body byte needs to arrive.
    decoder = FrameDecoder()
    assert code_of(lambda: decoder.feed(bytes.fromhex("ffffff7f"))) == "frame-too-large"
    assert code_of(lambda: decoder.feed(b"\x01")) == "malformed-frame"  # nothing after a failure
    assert code_of(lambda: split_frames(bytes.fromhex("0300"))) == "malformed-frame"  # cut off body
    assert code_of(lambda: split_frames(bytes.fromhex("80"))) == "malformed-frame"    # cut off prefix
    assert code_of(lambda: split_frames(bytes.fromhex("00"))) == "malformed-frame"
    assert code_of(lambda: split_frames(bytes.fromhex("8300"))) == "malformed-frame"
    assert code_of(lambda: split_frames(bytes.fromhex("8080808001"))) == "malformed-frame"
    big = FrameDecoder(max_frame=2**28 - 1)
    assert big.feed(bytes.fromhex("ffffff7f")) == [] and big.buffered == 4


def test_message_types_and_enum_names() -> None:
    assert [t.wire_name for t in MessageType][:3] == ["describe-request", "description", "open"]
    assert int(Kind.WEIGHTED) == 1


def test_bench_reports_rates_and_a_baseline() -> None:
    lines = bench_codec(batch_events=4096, batches=2, budget_s=0.02)
    assert [line["bench"] for line in lines] == ["py-codec-decode", "py-codec-encode"]
    assert all(line["events_per_s"] > 0 and line["baseline_events_per_s"] > 0 for line in lines)


def test_accept_port_echo_is_checked_after_the_stream_state() -> None:
    from spikewire.codec.messages import Accept
    body = encode_message(Accept("other", Kind.SPIKE, 4, 1000))
    waiting = DecodeContext.make(expected=[MessageType.ACCEPT, MessageType.REJECT, MessageType.CLOSE], port="spikes")
    assert code_of(lambda: decode_message(body, waiting)) == "invalid-message"
    opened = DecodeContext.make(expected=[MessageType.BATCH, MessageType.CLOSE], port="spikes")
    assert code_of(lambda: decode_message(body, opened)) == "unexpected-message"
    accepted = decode_message(encode_message(Accept("spikes", Kind.SPIKE, 4, 1000)), waiting)
    assert isinstance(accepted, Accept) and accepted.port == "spikes"
