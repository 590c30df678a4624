"""`python -m spikewire.lsl` as a child process: errors are reported with their code and exit 1, a signal
while the bridge is starting ends it at once, and the stats line comes last in every case."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from spikewire.lsl.lslcfg import write_loopback_config


def _run(args: list[str], cfg: Path, term_after: float | None = None) -> tuple[int, list[dict]]:
    env = dict(os.environ, LSLAPICFG=str(cfg))
    p = subprocess.Popen([sys.executable, "-m", "spikewire.lsl", *args, "--json"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env)
    try:
        if term_after is not None:
            time.sleep(term_after)
            p.send_signal(signal.SIGTERM)
        out, _err = p.communicate(timeout=20)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(5)
    return p.returncode, [json.loads(x) for x in out.splitlines() if x.startswith("{")]


def test_errors_exit_1_with_their_code_and_stats(tmp_path: Path) -> None:
    cfg = write_loopback_config(tmp_path / "lsl_api.cfg", f"cli-{uuid.uuid4().hex[:8]}")
    rc, lines = _run(["ingest", "name=no-such-stream", "--listen", "/ip4/127.0.0.1/tcp/0", "--port", "x",
                      "--resolve-timeout", "1"], cfg)
    assert rc == 1 and lines[0]["event"] == "error" and lines[0]["code"] == "lsl-stream-not-found"
    assert lines[-1]["event"] == "stats" and lines[-1]["samples"] == 0
    rc, lines = _run(["publish", "/ip4/127.0.0.1/tcp/1", "spikes"], cfg)
    assert rc == 1 and lines[0]["code"] == "invalid-address" and lines[-1]["event"] == "stats"


def test_a_signal_while_starting_ends_the_bridge(tmp_path: Path) -> None:
    cfg = write_loopback_config(tmp_path / "lsl_api.cfg", f"cli-{uuid.uuid4().hex[:8]}")
    t0 = time.monotonic()
    rc, lines = _run(["ingest", "name=no-such-stream", "--listen", "/ip4/127.0.0.1/tcp/0", "--port", "x"], cfg,
                     term_after=2.0)
    assert time.monotonic() - t0 < 15  # the resolve timeout is 20 s: the signal ended it, not the timeout
    assert rc == 0 and [x["event"] for x in lines] == ["ended", "stats"]
