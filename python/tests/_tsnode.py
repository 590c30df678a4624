"""Real TypeScript spikewire processes for the node tests: `spikewire node --config F --json` as a child
process (its "started" line gives the address), and the TypeScript CLI. Every wait is bounded (20 s) and
every child is killed in a finally. Node 24 comes from the repository's node_modules/.bin (as npm puts it
first on PATH); without it the tests fail with a clear message rather than skip."""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SPIKEWIRE_JS = REPO / "bin" / "spikewire.js"
WAIT_S = 20.0


def node_binary() -> str:
    candidates = [REPO / "node_modules" / ".bin" / "node"]
    found = shutil.which("node")
    if found:
        candidates.append(Path(found))
    for c in candidates:
        if c.exists():
            try:
                v = subprocess.run([str(c), "--version"], capture_output=True, text=True, timeout=WAIT_S).stdout.strip()
            except (OSError, subprocess.TimeoutExpired):
                continue
            major, minor = (int(x) for x in v.lstrip("v").split(".")[:2])
            if major > 23 or (major == 22 and minor >= 18) or (major == 23 and minor >= 6):
                return str(c)
    pytest.fail("these tests need Node >= 22.18 (node_modules/.bin/node from `npm install`, or on PATH) "
                "to run the TypeScript spikewire node")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{REPO / 'node_modules' / '.bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


@dataclass
class Child:
    proc: subprocess.Popen[str]
    lines: queue.Queue[str | None] = field(default_factory=queue.Queue)
    seen: list[str] = field(default_factory=list)

    def start_reader(self) -> None:
        def pump() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                self.lines.put(line.rstrip("\n"))
            self.lines.put(None)
        threading.Thread(target=pump, daemon=True).start()

    def wait_json(self, predicate: Any, timeout: float = WAIT_S) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no expected line within {timeout:g} s; saw {self.seen}; "
                                     f"stderr: {self.stderr_text()}")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"process ended (rc {self.proc.poll()}); saw {self.seen}; "
                                     f"stderr: {self.stderr_text()}")
            self.seen.append(line)
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            if predicate(obj):
                return obj

    def stderr_text(self) -> str:
        if self.proc.poll() is None or self.proc.stderr is None:
            return "(running)"
        return self.proc.stderr.read()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(WAIT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(WAIT_S)


@dataclass
class RunningNode:
    addr: str
    peer: str
    started: dict[str, Any]
    child: Child


@contextmanager
def ts_node(config: dict[str, Any], tmp: Path) -> Iterator[RunningNode]:
    """A TypeScript node from `config` (listen defaults to loopback, port 0)."""
    cfg = {"listen": ["/ip4/127.0.0.1/tcp/0"], **config}
    path = tmp / f"ts-{cfg['name']}.json"
    path.write_text(json.dumps(cfg))
    proc = subprocess.Popen([node_binary(), str(SPIKEWIRE_JS), "node", "--config", str(path), "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=str(REPO))
    child = Child(proc)
    try:
        child.start_reader()
        started = child.wait_json(lambda o: o.get("event") == "started")
        addr = next(a for a in started["multiaddrs"] if a.startswith("/ip4/127.0.0.1/"))
        yield RunningNode(addr, started["peer"], started, child)
    finally:
        child.stop()


@contextmanager
def py_node_process(config: dict[str, Any], tmp: Path) -> Iterator[RunningNode]:
    """A Python node (`python -m spikewire node --config F --json`) as a child process."""
    cfg = {"listen": ["/ip4/127.0.0.1/tcp/0"], **config}
    path = tmp / f"py-{cfg['name']}.json"
    path.write_text(json.dumps(cfg))
    proc = subprocess.Popen([sys.executable, "-m", "spikewire", "node", "--config", str(path), "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    child = Child(proc)
    try:
        child.start_reader()
        started = child.wait_json(lambda o: o.get("event") == "started")
        addr = next(a for a in started["multiaddrs"] if a.startswith("/ip4/127.0.0.1/"))
        yield RunningNode(addr, started["peer"], started, child)
    finally:
        child.stop()


def ts_cli(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run([node_binary(), str(SPIKEWIRE_JS), *args], capture_output=True, text=True,
                          timeout=timeout, env=_env(), cwd=str(REPO))


def py_cli(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spikewire", *args], capture_output=True, text=True,
                          timeout=timeout)


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]
