"""A blocking wrapper for scripts and notebooks: a Node runs in a trio event loop on a background thread.

    with spikewire.connect() as sw:
        print(sw.describe(addr))
        for batch in sw.subscribe(addr, "spikes"):
            batch.channels, batch.times, batch.values

Every call blocks the calling thread until the node's thread has the answer; exceptions are raised in the
caller. `subscribe` runs the events layer's async iterator in the node's thread and hands batches over a
bounded queue (the subscription's own flow control applies when the caller falls behind).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import trio

from spikewire.clock.estimator import Estimate
from spikewire.codec.messages import Description
from spikewire.node import Node

T = TypeVar("T")

START_TIMEOUT_S = 20.0
_END = object()


class SyncNode:
    """A Node on a background thread. Use as a context manager, or call close()."""

    def __init__(self, **node_kw: Any) -> None:
        self._kw = node_kw
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._token: trio.lowlevel.TrioToken | None = None
        self._stop: trio.Event | None = None
        self.node: Node | None = None
        self._thread = threading.Thread(target=self._main, name="spikewire-node", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_S):
            raise TimeoutError(f"the node did not start within {START_TIMEOUT_S:g} s")
        if self._error is not None:
            raise self._error

    def _main(self) -> None:
        try:
            trio.run(self._run)
        except BaseException as err:  # reported to the caller of start or close
            self._error = err
        finally:
            self._ready.set()

    async def _run(self) -> None:
        self._stop = trio.Event()
        async with Node(**self._kw) as node:
            self.node = node
            self._token = trio.lowlevel.current_trio_token()
            self._ready.set()
            await self._stop.wait()

    # -- calls ------------------------------------------------------------------------------------------
    def run(self, afn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run `await afn(*args)` in the node's thread and return its result."""
        if self._token is None or not self._thread.is_alive():
            raise RuntimeError("the node is not running")
        return trio.from_thread.run(afn, *args, trio_token=self._token)

    @property
    def addrs(self) -> list[str]:
        assert self.node is not None
        return self.node.addrs

    @property
    def peer_id(self) -> str:
        assert self.node is not None
        return str(self.node.peer_id)

    def describe(self, addr: str, timeout: float = 10.0) -> Description:
        assert self.node is not None
        return self.run(self.node.describe, addr, timeout)

    def clock(self, addr: str, converged: bool = False, timeout: float = 20.0) -> Estimate:
        assert self.node is not None
        node = self.node
        return self.run(lambda: node.clock(addr, converged=converged, timeout=timeout))

    def subscribe(self, addr: str, port: str, *, queue_batches: int = 256, **kw: Any) -> Iterator[Any]:
        """Batches from a remote out port, as a blocking iterator. Breaking out of the loop ends the
        subscription."""
        assert self.node is not None
        node = self.node
        q: queue.Queue[Any] = queue.Queue(queue_batches)
        scope_box: list[trio.CancelScope] = []
        started = threading.Event()

        async def put(item: Any) -> None:
            # Never block the event loop: while the caller is behind, wait in small steps (cancellable, so
            # that breaking out of the loop or closing the node is never held up by a full queue).
            while True:
                try:
                    q.put_nowait(item)
                    return
                except queue.Full:
                    await trio.sleep(0.002)

        async def pump() -> None:
            with trio.CancelScope() as scope:
                scope_box.append(scope)
                started.set()
                try:
                    sub = node.subscribe(addr, port, **kw)
                    if hasattr(sub, "__await__"):
                        sub = await sub
                    async with sub:
                        async for batch in sub:
                            await put(batch)
                except trio.Cancelled:
                    raise
                except BaseException as err:  # handed to the consumer, raised there
                    await put(err)
                    return
                await put(_END)

        def start() -> None:
            node.nursery.start_soon(pump)

        assert self._token is not None
        trio.from_thread.run_sync(start, trio_token=self._token)
        started.wait(START_TIMEOUT_S)
        try:
            while True:
                item = q.get()
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            if scope_box and self._thread.is_alive():
                try:
                    trio.from_thread.run_sync(scope_box[0].cancel, trio_token=self._token)
                except trio.RunFinishedError:
                    pass

    # -- lifecycle --------------------------------------------------------------------------------------
    def close(self) -> None:
        if self._token is not None and self._thread.is_alive() and self._stop is not None:
            try:
                trio.from_thread.run_sync(self._stop.set, trio_token=self._token)
            except trio.RunFinishedError:
                pass
        self._thread.join(START_TIMEOUT_S)
        if self._error is not None:
            err, self._error = self._error, None
            raise err

    def __enter__(self) -> SyncNode:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def connect(**node_kw: Any) -> SyncNode:
    """Start a node on a background thread (the arguments of Node) and return its blocking wrapper."""
    return SyncNode(**node_kw)
