"""Recordings made by the real recorder for the NWB tests: a TypeScript node (a Poisson spike port and a
weighted port), a Python node in this process (a weighted port emitting random float32 values), and
`spikewire record` (TypeScript) as a child process subscribed to all three. Every wait is bounded; every
child is stopped in a finally. Also: a minimal XDF chunk builder for the hostile-file tests."""

from __future__ import annotations

import json
import struct
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import trio

from spikewire.codec.messages import Model, Param
from spikewire.events.clock import now_us
from spikewire.events.tsproc import BIN, ROOT, node_env, ts_node
from spikewire.node import Node

WAIT_S = 20.0


@dataclass
class Recorded:
    xdf: Path
    summary: dict[str, Any]       # the recorder's summary line
    ts_peer: str
    py_peer: str
    emitted: int                  # events the Python port emitted while the recorder was subscribed


TS_CONFIG = {
    "name": "lab-src", "role": "source",
    "ports": [
        {"name": "spikes", "direction": "out", "kind": "spike", "channels": 8,
         "source": {"type": "poisson", "rateHz": 150, "seed": 3}},
        {"name": "stim", "direction": "out", "kind": "weighted", "channels": 2,
         "source": {"type": "poisson", "rateHz": 30, "seed": 4},
         "model": {"name": "electrode", "params": [["gain", 2, "mV"], ["channels", 2, ""]]}},
    ],
}


def record(tmp: Path, duration_s: float = 3.0, name: str = "rec.xdf") -> Recorded:
    """Record the three ports for `duration_s` seconds into tmp/name."""
    out = tmp / name
    rng = np.random.default_rng(7)

    async def main() -> Recorded:
        with trio.fail_after(duration_s + 3 * WAIT_S):
            async with Node(name="lab-py", role="source") as node:
                port = node.events.add_out_port("weights", channels=4, kind="weighted",
                                         model=Model("stimulator", (Param("amplitude", 1.5, "uA"), Param("seed", 7, ""))))
                with ts_node(dict(TS_CONFIG), tmp) as (_proc, started):
                    ts_addr = next(a for a in started["multiaddrs"] if a.startswith("/ip4/127.0.0.1/"))
                    py_addr = next(a for a in node.addrs if a.startswith("/ip4/127.0.0.1/"))
                    rec = subprocess.Popen(
                        ["node", str(BIN), "record", ts_addr, "spikes", ts_addr, "stim", py_addr, "weights",
                         "--out", str(out), "--duration", str(duration_s), "--json", "--progress", "60"],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=node_env(), cwd=ROOT)
                    emitted = 0
                    try:
                        while rec.poll() is None:
                            if port.streams > 0:
                                n = int(rng.integers(1, 20))
                                t0 = now_us()
                                times = t0 + np.sort(rng.integers(0, 5000, n))
                                values = rng.normal(0, 100, n).astype(np.float32)
                                values[rng.random(n) < 0.1] = np.float32(1e-30)
                                emitted += port.emit(rng.integers(0, 4, n), times, values)
                            await trio.sleep(0.01)
                        stdout, stderr = rec.communicate(timeout=WAIT_S)
                    finally:
                        if rec.poll() is None:
                            rec.kill()
                            rec.wait(WAIT_S)
                    summary = next((json.loads(line) for line in stdout.splitlines()
                                    if line.startswith("{") and '"summary"' in line), None)
                    assert summary is not None, f"no recorder summary (rc {rec.returncode}); stderr: {stderr[-2000:]}"
                    return Recorded(out, summary, started["peer"], str(node.peer_id), emitted)

    return trio.run(main)


# ---------------------------------------------------------------- a minimal XDF builder (hostile files)

def varlen(n: int) -> bytes:
    if n < 256:
        return bytes([1, n])
    if n < 2**32:
        return b"\x04" + struct.pack("<I", n)
    return b"\x08" + struct.pack("<Q", n)


def chunk(tag: int, content: bytes) -> bytes:
    return varlen(len(content) + 2) + struct.pack("<H", tag) + content


def file_header() -> bytes:
    return chunk(1, b'<?xml version="1.0"?><info><version>1.0</version></info>')


def stream_header(sid: int, kind: str = "spike", channels: int = 4, fmt: str | None = None,
                  count: int | None = None, extra: str = "") -> bytes:
    fmt = fmt or ("int32" if kind == "spike" else "double64")
    count = count if count is not None else (1 if kind == "spike" else 2)
    xml = (f'<?xml version="1.0"?><info><name>p{sid}</name><type>Spikes</type><channel_count>{count}</channel_count>'
           f'<channel_format>{fmt}</channel_format><nominal_srate>0</nominal_srate><source_id>peer/p{sid}</source_id>'
           f'<created_at>1.0</created_at><desc><spikewire><port>p{sid}</port><kind>{kind}</kind>'
           f'<channels>{channels}</channels><peer>peer</peer><node>n</node>{extra}</spikewire></desc></info>')
    return chunk(2, struct.pack("<I", sid) + xml.encode())


def samples(sid: int, times_s: list[float], rows: list[list[float]], fmt: str = "int32") -> bytes:
    code = {"int32": "<i", "double64": "<d"}[fmt]
    body = bytearray(varlen(len(times_s)))
    for t, row in zip(times_s, rows):
        body += b"\x08" + struct.pack("<d", t)
        for v in row:
            body += struct.pack(code, int(v) if fmt == "int32" else v)
    return chunk(3, struct.pack("<I", sid) + bytes(body))


def footer(sid: int, first: float, last: float, count: int) -> bytes:
    xml = (f'<?xml version="1.0"?><info><first_timestamp>{first!r}</first_timestamp>'
           f'<last_timestamp>{last!r}</last_timestamp><sample_count>{count}</sample_count></info>')
    return chunk(6, struct.pack("<I", sid) + xml.encode())


def wait_until(pred: Any, timeout: float = WAIT_S) -> None:
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)
