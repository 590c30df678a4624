"""A TypeScript child process of the repository's benchmarks (bench/child-rpc.ts): JSON-line commands
{id, cmd, ...} on its stdin, one answer {id, result} or {id, error} per line on its stdout."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import trio


class ChildError(Exception):
    """The child answered with an error, exited, or did not answer in time."""


def repo_root(start: Path | None = None) -> Path:
    """The repository checkout this package runs from (the folder holding bench/stream-peer.ts)."""
    env = os.environ.get("SPIKEWIRE_REPO")
    candidates = [Path(env)] if env else []
    here = (start or Path(__file__)).resolve()
    candidates += list(here.parents) + [Path.cwd()]
    for c in candidates:
        if (c / "bench" / "stream-peer.ts").is_file() and (c / "package.json").is_file():
            return c
    raise ChildError("cannot find the spikewire repository (bench/stream-peer.ts); set SPIKEWIRE_REPO")


def node_binary(root: Path) -> str:
    """Node 24 of the repository (node_modules/.bin/node), else `node` on PATH."""
    local = root / "node_modules" / ".bin" / "node"
    if local.exists():
        return str(local)
    found = shutil.which("node")
    if found is None:
        raise ChildError("Node 24 not found: neither node_modules/.bin/node nor node on PATH")
    return found


class TsChild:
    """One child running `script` (a path under the repository), in its own process group."""

    def __init__(self, root: Path, script: str, timeout_s: float) -> None:
        self._root = root
        self._script = script
        self._timeout = timeout_s
        self._proc: trio.Process | None = None
        self._next = 0
        self._pending: dict[int, Any] = {}
        self._answers: dict[int, dict[str, Any]] = {}
        self._buf = b""
        self._lock = trio.Lock()
        self._arrived = trio.Event()

    async def start(self, nursery: trio.Nursery) -> None:
        self._proc = await trio.lowlevel.open_process(
            [node_binary(self._root), str(self._root / self._script)], cwd=str(self._root),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None, start_new_session=True)
        nursery.start_soon(self._read)

    async def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        while True:
            chunk = await self._proc.stdout.receive_some(65536)
            if not chunk:
                break
            self._buf += chunk
            while b"\n" in self._buf:
                line, _, self._buf = self._buf.partition(b"\n")
                if not line.strip():
                    continue
                m = json.loads(line)
                self._answers[int(m["id"])] = m
            self._arrived.set()
            self._arrived = trio.Event()
        self._arrived.set()

    async def call(self, cmd: str, **args: Any) -> Any:
        if self._proc is None or self._proc.stdin is None:
            raise ChildError("child not started")
        cid = self._next
        self._next += 1
        async with self._lock:
            await self._proc.stdin.send_all((json.dumps({"id": cid, "cmd": cmd, **args}) + "\n").encode())
        end = time.monotonic() + self._timeout
        while cid not in self._answers:
            if self._proc.returncode is not None:
                raise ChildError(f"child {self._script} exited with {self._proc.returncode} during {cmd}")
            if time.monotonic() > end:
                raise ChildError(f"child {self._script} did not answer {cmd} within {self._timeout:g} s")
            with trio.move_on_after(0.5):
                await self._arrived.wait()
        m = self._answers.pop(cid)
        if "error" in m:
            raise ChildError(f"{self._script} {cmd}: {m['error']}")
        return m.get("result")

    async def close(self) -> None:
        if self._proc is None:
            return
        try:
            with trio.move_on_after(3):
                await self.call("exit")
                await self._proc.wait()
        except Exception:
            pass
        if self._proc.returncode is None:
            try:
                os.killpg(self._proc.pid, 9)
            except ProcessLookupError:
                pass
            with trio.move_on_after(2):
                await self._proc.wait()


def clock_base_us() -> float:
    """This process's time.time_ns() minus the system-wide monotonic clock, µs: the base of now_us().
    The TypeScript children report theirs (performance.timeOrigin + now() minus process.hrtime); the
    difference of two bases corrects readings compared across processes."""
    samples = []
    for _ in range(101):
        a = time.monotonic_ns()
        n = time.time_ns()
        b = time.monotonic_ns()
        samples.append((n - (a + b) / 2) / 1000)
    samples.sort()
    return samples[50]


def now_us() -> float:
    return time.time_ns() / 1000


def quantile(sorted_values: list[float], q: float) -> float:
    """The q-quantile of ascending values: the element at floor(q * n), as bench/report.ts takes it."""
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]
