"""Every stream vector (interop-tests/vectors/stream) replays through the event receiver to the same
fail_at, code and gap (vectors README, "Streams")."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from spikewire.errors import ProtocolError
from spikewire.events import _wire as w
from spikewire.events.receiver import EventReceiver

ROOT = Path(__file__).resolve().parents[2]
VECTORS = sorted((ROOT / "interop-tests" / "vectors" / "stream").glob("stream-*.json"))


def test_vectors_present() -> None:
    assert len(VECTORS) >= 29


@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
def test_stream_vector(path: Path) -> None:
    v = json.loads(path.read_text())
    ctx = v.get("context", {})
    assert v["role"] == "subscriber"
    # The vectors do not give the port of the receiver's own open (Appendix B, revision 4 draft): take the
    # name the first accept echoes, else "spikes".
    first = json.loads(path.read_text())["messages"][0]
    port = first["port"] if first.get("type") == "accept" else "spikes"
    open_msg = w.Open(mode=w.MODE_SUBSCRIBE, port=port, channels=ctx.get("filter"),
                      max_events=ctx.get("max_events"))
    r = EventReceiver.subscriber(open_msg)
    failed_at = None
    code = None
    for i, hx in enumerate(v["messages_hex"]):
        try:
            # The codec checks §7.5 steps 2 to 6 with the receiver's context; the receiver steps 7 and 8.
            r.receive(w.decode(bytes.fromhex(hx), r.context()))
        except ProtocolError as e:
            failed_at, code = i, e.code
            break
    if v["fail"]:
        assert (failed_at, code) == (v["fail_at"], v["code"])
    else:
        assert failed_at is None, f"rejected message {failed_at} with {code}"
        assert r.missing == v["gap"]
        assert r.expected == r.received + r.lost_total + r.missing
