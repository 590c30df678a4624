"""The error registry matches spec §10.1, read from the spec itself."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from spikewire.errors import CODE_NAMES, CODES, ProtocolError, RemoteCloseError

SPEC = Path(__file__).resolve().parents[2] / "spec" / "spikewire.md"


def registry_from_spec() -> dict[str, int]:
    text = SPEC.read_text(encoding="utf-8")
    section = text.split("### 10.1 Error codes", 1)[1].split("### 10.2", 1)[0]
    rows = re.findall(r"^\| (\d+) \| `([a-z-]+)` \|", section, flags=re.MULTILINE)
    return {name: int(number) for number, name in rows}


def test_registry_matches_the_spec() -> None:
    assert CODES == registry_from_spec()
    assert all(CODE_NAMES[number] == name for name, number in CODES.items())


def test_protocol_error_carries_code_and_number() -> None:
    error = ProtocolError("invalid-cbor", "map keys out of order")
    assert (error.code, error.number) == ("invalid-cbor", 3)
    with pytest.raises(ValueError):
        ProtocolError("not-a-code")


def test_remote_close_keeps_unregistered_numbers() -> None:
    error = RemoteCloseError(2**40, "later version")
    assert error.number == 2**40 and error.code == f"unregistered-{2**40}"
    assert RemoteCloseError(20).code == "timeout"
