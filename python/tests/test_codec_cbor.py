"""Strict deterministic CBOR (spec §7.1, §7.2): edge cases beyond the vectors."""

from __future__ import annotations

import math
from typing import Any

import pytest

from spikewire.codec import cbor
from spikewire.codec.cbor import CborMap
from spikewire.codec.messages import decode_message
from spikewire.errors import ProtocolError


def invalid(hex_bytes: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        cbor.decode(bytes.fromhex(hex_bytes))
    assert caught.value.code == "invalid-cbor", hex_bytes


@pytest.mark.parametrize("value, hex_bytes", [
    (0, "00"), (23, "17"), (24, "1818"), (255, "18ff"), (256, "190100"), (65535, "19ffff"),
    (65536, "1a00010000"), (2**32 - 1, "1affffffff"), (2**32, "1b0000000100000000"),
    (2**64 - 1, "1bffffffffffffffff"), (-1, "20"), (-24, "37"), (-25, "3818"), (-(2**64), "3bffffffffffffffff"),
    (b"", "40"), ("", "60"), ("é", "62c3a9"), ([], "80"), (False, "f4"), (True, "f5"), (None, "f6"),
    (0.0, "f90000"), (-0.0, "f98000"), (1.5, "f93e00"), (65504.0, "f97bff"), (math.inf, "f97c00"),
    (-math.inf, "f9fc00"), (5.960464477539063e-08, "f90001"),  # smallest binary16 subnormal
    (100000.0, "fa47c35000"), (1.0000001192092896, "fa3f800001"), (0.1, "fb3fb999999999999a"),
    (1e300, "fb7e37e43c8800759c"),
])
def test_shortest_forms_round_trip(value: Any, hex_bytes: str) -> None:
    assert cbor.encode(value).hex() == hex_bytes
    decoded = cbor.decode(bytes.fromhex(hex_bytes))
    assert decoded == value and type(decoded) is type(value)
    if isinstance(value, float):
        assert math.copysign(1.0, decoded) == math.copysign(1.0, value)


def test_nan_only_as_f97e00() -> None:
    assert math.isnan(cbor.decode(bytes.fromhex("f97e00")))
    assert cbor.encode(math.nan).hex() == "f97e00"
    for other in ("f97e01", "f9fe00", "f97c01", "fa7fc00000", "fb7ff8000000000000"):
        invalid(other)


@pytest.mark.parametrize("hex_bytes", [
    "1817", "190017", "1900ff", "1a0000ffff", "1b00000000ffffffff",  # integers in a longer head
    "3817", "5817" + "00" * 23, "7801" + "61", "9800", "b800",       # lengths in a longer head
    "fa3fc00000",                                                     # 1.5 as binary32
    "fb3ff8000000000000",                                             # 1.5 as binary64
    "fb3ff0000020000000",                                             # 1.0000001192092896 as binary64
    "fa7f800000",                                                     # infinity as binary32
])
def test_longer_than_needed(hex_bytes: str) -> None:
    invalid(hex_bytes)


@pytest.mark.parametrize("hex_bytes", [
    "5f4100ff", "7f6161ff", "9f00ff", "bf0000ff",   # indefinite lengths
    "1f", "3f", "df",                              # additional information 31 on types 0, 1, 6
    "1c", "3d", "5e", "7c", "9d", "be", "dc", "fc",  # reserved additional information 28..30
    "ff", "80ff",                                  # break outside an indefinite item
    "c100", "d82000", "c0",                        # tags
    "f7", "f0", "f820", "f8ff",                    # undefined, other simple values
    "62c3", "6180", "62c0af", "63eda080", "64f4908080",  # cut off UTF-8, bad, overlong, surrogate, > U+10FFFF
    "18", "1900", "1b00000000000000", "4201", "8201", "a101", "fa0000",  # cut off
    "0000", "a10001ff",                            # bytes after the item
    "",                                            # no item at all
])
def test_rejected(hex_bytes: str) -> None:
    invalid(hex_bytes)


def test_map_keys_strictly_ascending_by_encoding() -> None:
    assert cbor.decode(bytes.fromhex("a20001186400")) == CborMap([(0, 1), (100, 0)])
    invalid("a2186400 0001".replace(" ", ""))  # 100 before 0
    invalid("a200010002")                      # duplicate 0
    # Bytewise order of encodings, not numeric order: 10 (0a) sorts before -1 (20), "a" (6161) after both.
    assert cbor.decode(bytes.fromhex("a30a0020006161 00".replace(" ", ""))) == CborMap([(10, 0), (-1, 0), ("a", 0)])
    invalid("a220000a00")
    # Shorter encodings sort first: 23 (17) before 24 (1818).
    invalid("a218180017 00".replace(" ", ""))


def test_keys_of_any_type_are_kept_apart() -> None:
    # 1 and 1.0 are different keys on the wire; arrays and maps may be keys inside unknown values.
    item = cbor.decode(bytes.fromhex("a3" "01" "f4" "8100" "f5" "f93c00" "f6"))
    assert item == CborMap([(1, False), ([0], True), (1.0, None)])
    assert type(item[0][0]) is int and type(item[2][0]) is float


def test_nesting_depth() -> None:
    assert cbor.decode(bytes.fromhex("81" * 15 + "80")) is not None  # 16 levels
    invalid("81" * 16 + "80")                                        # 17 levels
    invalid("a1" + "01" + "81" * 15 + "80")                          # 17 levels through a map
    invalid("81" * 5000 + "80")                                      # never a recursion error


def test_lengths_never_allocate_beyond_the_input() -> None:
    invalid("9bffffffffffffffff")   # array of 2^64 - 1 elements in 9 bytes
    invalid("bbffffffffffffffff")   # map likewise
    invalid("5bffffffffffffffff00")  # byte string likewise
    invalid("9a00010000" + "00" * 10)


def test_encoder_sorts_keys_and_refuses_what_cbor_cannot_hold() -> None:
    assert cbor.encode({100: 0, 0: 1, 24: 2, 23: 3}).hex() == "a400011703181802186400"
    with pytest.raises(ValueError):
        cbor.encode(2**64)
    with pytest.raises(ValueError):
        cbor.encode(-(2**64) - 1)
    with pytest.raises(TypeError):
        cbor.encode(object())


def test_simple_values_are_valid_cbor_but_never_a_field() -> None:
    # A watermark whose time is true: well-formed CBOR, wrong type (§7.3).
    with pytest.raises(ProtocolError) as caught:
        decode_message(bytes.fromhex("a3" "0007" "0100" "02f5"))
    assert caught.value.code == "invalid-message"
    # true under an unknown key is ignored (§7.4); undefined under an unknown key is invalid-cbor (§7.2).
    decode_message(bytes.fromhex("a4" "0007" "0100" "0205" "1863f5"))
    with pytest.raises(ProtocolError) as caught:
        decode_message(bytes.fromhex("a4" "0007" "0100" "0205" "1863f7"))
    assert caught.value.code == "invalid-cbor"


def test_float_keys_are_not_integer_keys() -> None:
    # {0: 7, 2: 5, 1.0: 3}: key 1.0 is not the seq field but a non-integer key: invalid-message (§7.3).
    with pytest.raises(ProtocolError) as caught:
        decode_message(bytes.fromhex("a3" "0007" "0205" "f93c00" "03"))
    assert caught.value.code == "invalid-message"


def message_code(hex_bytes: str, **context: Any) -> str:
    from spikewire.codec.messages import DecodeContext
    try:
        decode_message(bytes.fromhex(hex_bytes), DecodeContext.make(**context))
    except ProtocolError as error:
        return error.code
    return "ok"


@pytest.mark.parametrize("key", ["4100", "8100", "a0", "a10000", "6161", "20", "f4"])
def test_keys_of_every_type_are_valid_cbor(key: str) -> None:
    # Appendix B revision 4: any data item may be a key. In the watermark map it is a non-integer key
    # (invalid-message, §7.3); in the value of an unknown key (99) it is not checked (§7.4).
    assert message_code("a4" "0007" "0100" "0205" + key + "00") == "invalid-message"
    assert message_code("a4" "0007" "0100" "0205" "1863" "a1" + key + "00") == "ok"


def test_unknown_type_comes_before_non_integer_keys() -> None:
    # §7.5 step 3 before step 4: {0: 23, "a": 1} is unknown-message-type.
    assert message_code("a2" "0017" "616101") == "unknown-message-type"
    assert message_code("a2" "0007" "616101") == "invalid-message"


def test_clock_response_t3_before_t2_is_a_field_rule() -> None:
    ok = "a5" "000b" "0100" "0201" "0305" "0405"
    assert message_code(ok) == "ok"
    assert message_code("a5" "000b" "0100" "0201" "0305" "0404") == "invalid-message"


def test_a_cut_off_varint_after_count_varints_is_invalid_varint() -> None:
    # §8.6 step 4: the whole column is decoded before the count is compared (dt = 00 0a b9, count 2).
    body = "a6" "0006" "0100" "0201" "0302" "0442" "0102" "0543" "000ab9"
    assert message_code(body, kind="spike", channels=16) == "invalid-varint"
    body = "a6" "0006" "0100" "0201" "0302" "0443" "0102b9" "0542" "0000"
    assert message_code(body, kind="spike", channels=16) == "invalid-varint"
