"""The Python side of each measure, on the library's public API."""
from __future__ import annotations

from typing import Any

import trio


class NotBuilt(Exception):
    """A library part this measure needs is not there yet."""


async def ts_to_py_throughput(root: Any, nursery: trio.Nursery, seconds: float, batch: int) -> dict[str, Any]:
    raise NotBuilt("the Python subscriber (spikewire.Node.subscribe) is not built yet")


async def py_to_ts_throughput(root: Any, nursery: trio.Nursery, seconds: float, batch: int) -> dict[str, Any]:
    raise NotBuilt("the Python out port (spikewire.Node.add_out_port) is not built yet")


async def ts_to_py_latency(root: Any, nursery: trio.Nursery, seconds: float, rate_hz: int) -> tuple[list[float], dict[str, Any]]:
    raise NotBuilt("the Python subscriber is not built yet")


async def py_to_ts_latency(root: Any, nursery: trio.Nursery, seconds: float, rate_hz: int) -> tuple[list[float], dict[str, Any]]:
    raise NotBuilt("the Python out port is not built yet")


async def clock_loopback(root: Any, nursery: trio.Nursery, seconds: float) -> dict[str, Any]:
    raise NotBuilt("the Python clock client (spikewire.protocols.clock) is not built yet")
