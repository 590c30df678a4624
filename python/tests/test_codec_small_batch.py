"""The plain-loop decoder of small batches (codec.batch._decode_small) against the vectorised one: the same
columns or the same error code, on valid batches and on many broken ones."""
from __future__ import annotations

import numpy as np

from spikewire.codec.batch import SMALL_BATCH, _decode_numpy, _decode_small, encode_events
from spikewire.errors import ProtocolError


def outcome(fn, *args):
    try:
        ev = fn(*args)
    except ProtocolError as err:
        return ("error", err.code)
    return ("ok", ev.channels.dtype, ev.channels.tolist(), ev.times.dtype, ev.times.tolist(),
            None if ev.values is None else ev.values.tolist())


def test_small_batches_decode_alike_valid_and_broken() -> None:
    rng = np.random.default_rng(12)
    compared = errors = 0
    for _ in range(4000):
        n = int(rng.integers(1, SMALL_BATCH + 1))
        big = rng.random() < 0.5
        ch = rng.integers(0, 2**32 if big else 64, n).astype(np.uint64)
        t = np.sort(rng.integers(0, 2**53 - 1 if rng.random() < 0.2 else 2**40, n)).astype(np.int64)
        vals = rng.standard_normal(n).astype(np.float32) if rng.random() < 0.3 else None
        cols = encode_events(ch, t, vals)
        chb, dtb, base, count = bytearray(cols.ch), bytearray(cols.dt), cols.base, n
        # Break something, or not: flip, cut or append bytes, change the count or the base.
        what = int(rng.integers(0, 8))
        if what == 1 and chb:
            chb[int(rng.integers(0, len(chb)))] ^= int(rng.integers(1, 256))
        elif what == 2 and dtb:
            dtb[int(rng.integers(0, len(dtb)))] ^= int(rng.integers(1, 256))
        elif what == 3:
            dtb = dtb[:-1]
        elif what == 4:
            chb.append(int(rng.integers(0, 256)))
        elif what == 5:
            count = max(0, count + int(rng.choice([-1, 1])))
        elif what == 6:
            base = 2**53 - 1 - int(rng.integers(0, 10))
        channel_count = None if rng.random() < 0.3 else int(rng.integers(1, 2**32))
        flt = None if rng.random() < 0.7 else np.unique(rng.integers(0, 64, 8)).astype(np.uint32)
        args = (base, count, bytes(chb), bytes(dtb), None if vals is None else cols.val, channel_count, flt)
        a, b = outcome(_decode_small, *args), outcome(_decode_numpy, *args)
        assert a == b, (args, a, b)
        compared += 1
        errors += a[0] == "error"
    assert compared == 4000 and 500 < errors < 3500


def test_non_minimal_and_overlong_varints_are_refused_by_the_small_decoder() -> None:
    for ch, code in ((b"\x80\x00", "invalid-varint"), (b"\xff\xff\xff\xff\xff\x01", "invalid-varint"),
                     (b"\x80", "invalid-varint"), (b"\xff\xff\xff\xff\x10", "invalid-varint"),
                     (b"\x01\x02", "column-mismatch")):
        assert outcome(_decode_small, 0, 1, ch, b"\x00", None, None, None) == ("error", code)
        assert outcome(_decode_numpy, 0, 1, ch, b"\x00", None, None, None) == ("error", code)
