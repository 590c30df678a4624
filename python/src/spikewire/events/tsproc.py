"""A TypeScript spikewire node (or `spikewire tap`) as a child process, for the events interop tests and
benchmarks: run from a repository checkout, with Node 24 from its node_modules/.bin first on PATH. The
process is killed when the context ends."""
from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parents[4]
BIN = ROOT / "bin" / "spikewire.js"


def node_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{env.get('PATH', '')}"
    node = shutil.which("node", path=env["PATH"])
    if node is None:
        raise RuntimeError("Node 24 is needed for the interop tests: no `node` in node_modules/.bin or on PATH")
    out = subprocess.run([node, "--version"], capture_output=True, text=True, env=env).stdout.strip()
    if not out.startswith("v") or int(out[1:].split(".")[0]) < 22:
        raise RuntimeError(f"the interop tests need Node >= 22 (found {out}); run `npm install` first")
    return env


class Proc:
    """A child process whose stdout lines are read by a thread into a queue."""

    def __init__(self, args: list[str], cwd: Path | None = None) -> None:
        self.p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env=node_env(), cwd=cwd or ROOT, start_new_session=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._pump, args=(self.p.stdout, self.lines.put), daemon=True).start()
        threading.Thread(target=self._pump, args=(self.p.stderr, self.stderr.append), daemon=True).start()

    @staticmethod
    def _pump(f: Any, put: Any) -> None:
        for line in f:
            put(line.rstrip("\n"))

    def json_line(self, pred: Any, timeout: float = 20.0) -> dict[str, Any]:
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no matching line within {timeout} s; stderr: {self.stderr[-5:]}")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if pred(obj):
                return obj

    def stop(self, timeout: float = 10.0) -> int:
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait(5)
        return self.p.returncode

    def kill(self) -> None:
        if self.p.poll() is None:
            try:
                os.killpg(self.p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.p.wait(5)


@contextmanager
def ts_node(config: dict[str, Any], tmp: Path, stats_s: float | None = None) -> Iterator[tuple[Proc, dict[str, Any]]]:
    """Start `spikewire node --config` with this config; yield the process and its "started" line."""
    cfg = tmp / f"ts-{config['name']}.json"
    cfg.write_text(json.dumps(config))
    args = ["node", str(BIN), "node", "--config", str(cfg), "--json"]
    if stats_s is not None:
        args += ["--stats", str(stats_s)]
    proc = Proc(args)
    try:
        started = proc.json_line(lambda o: o.get("event") == "started")
        yield proc, started
    finally:
        proc.stop()
        proc.kill()


def ts_tap(addr: str, port: str, *args: str) -> Proc:
    return Proc(["node", str(BIN), "tap", addr, port, "--json", *args])
