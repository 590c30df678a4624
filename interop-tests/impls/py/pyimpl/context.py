"""What a scenario handler gets: the configuration from the environment (interop-tests/README.md,
"Environment"), the rendezvous, the time left, logging on stderr and the one use of stdout."""
from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import trio

from .generator import UsageError
from .rendezvous import RendezvousClient

KEYS = {"dialer_peer": "dialer-peer", "listener_ready": "listener-ready", "done": "done"}
EXIT = {"ok": 0, "failed": 1, "usage": 2, "unsupported": 3}
PROTOCOLS = {
    "describe": "/spikewire/describe/1.0.0",
    "events": "/spikewire/events/1.0.0",
    "clock": "/spikewire/clock/1.0.0",
}


def emit_line(line: dict[str, Any]) -> None:
    """One JSON object on stdout: the contract's only use of stdout."""
    sys.stdout.write(json.dumps(line, allow_nan=False, default=_jsonable) + "\n")
    sys.stdout.flush()


def _jsonable(v: Any) -> Any:
    if hasattr(v, "tolist"):
        return v.tolist()
    if isinstance(v, (set, tuple)):
        return list(v)
    raise TypeError(f"cannot write {type(v).__name__} as JSON")


def _json_env(name: str, fallback: Any) -> Any:
    v = os.environ.get(name, "")
    if v == "":
        return fallback
    try:
        return json.loads(v)
    except ValueError as err:
        raise UsageError(f"{name} is not valid JSON: {err}") from err


def _number_env(name: str) -> float:
    try:
        v = float(os.environ.get(name, "0") or "0")
    except ValueError as err:
        raise UsageError(f"{name} must be a number") from err
    return v


@dataclass
class Ctx:
    role: str
    scenario: str
    listen: str
    peer_addr: str
    ports: list[dict[str, Any]]
    params: dict[str, Any]
    limits: dict[str, Any]
    clock_offset_us: float
    clock_drift_ppm: float
    rendezvous: str
    timeout_ms: float
    run_id: str
    started: float = field(default_factory=time.monotonic)
    rv: RendezvousClient = field(init=False)
    done: trio.Event = field(default_factory=trio.Event)
    _ready_put: bool = False

    def __post_init__(self) -> None:
        self.rv = RendezvousClient(self.rendezvous)

    def remaining_ms(self) -> float:
        """Milliseconds left before the run's deadline, minus a margin to report."""
        return max(0.0, (self.started + self.timeout_ms / 1000 - time.monotonic()) * 1000 - 1500)

    def wait_ms(self, default: float) -> float:
        """params.wait_ms (or `default`), bounded by the time left."""
        v = self.params.get("wait_ms", default)
        return min(self.remaining_ms(), float(v) if isinstance(v, (int, float)) else default)

    async def ready(self) -> None:
        """Listener: put `listener-ready` once. A no-op for a dialer."""
        if self.role != "listener" or self._ready_put:
            return
        self._ready_put = True
        await self.rv.put(KEYS["listener_ready"], True)

    async def watch_done(self) -> None:
        """Listener: set `done` when the harness puts it (a connection of its own: a get blocks)."""
        client = RendezvousClient(self.rendezvous)
        try:
            await client.get(KEYS["done"], self.timeout_ms)
        except Exception as err:  # a timeout here means the run is over anyway
            self.log(f"waiting for done: {err}")
        finally:
            self.done.set()
            await client.aclose()

    def log(self, message: str) -> None:
        sys.stderr.write(f"[py {self.role} {self.run_id}] {message}\n")
        sys.stderr.flush()

    def param(self, name: str, kind: type | tuple[type, ...]) -> Any:
        v = self.params.get(name)
        if not isinstance(v, kind) or (kind in (int, float, (int, float)) and isinstance(v, bool)):
            raise UsageError(f"SW_PARAMS.{name} must be a {getattr(kind, '__name__', kind)}")
        return v


def context_from_env() -> Ctx:
    role = os.environ.get("SW_ROLE", "")
    if role not in ("dialer", "listener"):
        raise UsageError('SW_ROLE must be "dialer" or "listener"')
    scenario = os.environ.get("SW_SCENARIO", "")
    if scenario == "":
        raise UsageError("SW_SCENARIO is required")
    rendezvous = os.environ.get("SW_RENDEZVOUS", "")
    if rendezvous == "":
        raise UsageError("SW_RENDEZVOUS is required")
    peer_addr = os.environ.get("SW_PEER_ADDR", "")
    if role == "dialer" and peer_addr == "":
        raise UsageError("SW_PEER_ADDR is required for a dialer")
    params = _json_env("SW_PARAMS", {})
    if not isinstance(params, dict):
        raise UsageError("SW_PARAMS must be a JSON object")
    ports = _json_env("SW_PORTS", [])
    if not isinstance(ports, list):
        raise UsageError("SW_PORTS must be a JSON array")
    limits = params.get("limits") or {}
    return Ctx(
        role=role,
        scenario=scenario,
        listen=os.environ.get("SW_LISTEN", "") or "/ip4/127.0.0.1/tcp/0",
        peer_addr=peer_addr,
        ports=ports,
        params=params,
        limits=limits if isinstance(limits, dict) else {},
        clock_offset_us=_number_env("SW_CLOCK_OFFSET_US"),
        clock_drift_ppm=_number_env("SW_CLOCK_DRIFT_PPM"),
        rendezvous=rendezvous,
        timeout_ms=_number_env("SW_TIMEOUT_MS") or 20000,
        run_id=os.environ.get("SW_RUN_ID", scenario),
    )


async def wait_until(pred: Callable[[], bool], timeout_ms: float, what: str, step_s: float = 0.005) -> None:
    """Poll `pred` until it holds; raises TimeoutError after `timeout_ms`."""
    end = time.monotonic() + timeout_ms / 1000
    while not pred():
        if time.monotonic() > end:
            raise TimeoutError(f"timed out waiting for {what}")
        await trio.sleep(step_s)
