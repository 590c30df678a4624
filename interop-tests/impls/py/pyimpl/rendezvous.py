"""The rendezvous client (interop-tests/README.md, "Rendezvous"): one JSON object per line over TCP on
127.0.0.1, answered in request order on each connection. One request at a time per client."""
from __future__ import annotations

import json
from typing import Any

import trio

MAX_LINE = 1024 * 1024


class RendezvousError(Exception):
    """The rendezvous answered with an error or went away."""


class RendezvousClient:
    def __init__(self, address: str) -> None:
        host, _, port = address.rpartition(":")
        if host == "" or not port.isdigit():
            raise ValueError(f"rendezvous address must be host:port, got {address!r}")
        self._host = host
        self._port = int(port)
        self._stream: trio.SocketStream | None = None
        self._buffer = b""
        self._lock = trio.Lock()

    async def _request(self, req: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        async with self._lock:
            if self._stream is None:
                self._stream = await trio.open_tcp_stream(self._host, self._port)
            await self._stream.send_all((json.dumps(req) + "\n").encode())
            with trio.fail_after(timeout_s):
                while b"\n" not in self._buffer:
                    chunk = await self._stream.receive_some(65536)
                    if not chunk:
                        raise RendezvousError("the rendezvous closed the connection")
                    self._buffer += chunk
                    if len(self._buffer) > MAX_LINE:
                        raise RendezvousError("rendezvous answer too long")
            line, _, self._buffer = self._buffer.partition(b"\n")
            answer = json.loads(line)
            if not isinstance(answer, dict):
                raise RendezvousError(f"rendezvous answered {line!r}")
            return answer

    async def put(self, key: str, value: Any) -> None:
        answer = await self._request({"op": "put", "key": key, "value": value}, 10.0)
        if answer.get("ok") is not True:
            raise RendezvousError(f"put {key}: {answer}")

    async def get(self, key: str, timeout_ms: float) -> Any:
        timeout_ms = max(1, int(timeout_ms))
        answer = await self._request({"op": "get", "key": key, "timeout_ms": timeout_ms}, timeout_ms / 1000 + 5)
        if answer.get("ok") is not True:
            raise RendezvousError(f"timed out waiting for rendezvous key {key!r}")
        return answer.get("value")

    async def aclose(self) -> None:
        if self._stream is not None:
            with trio.move_on_after(1):
                await self._stream.aclose()
            self._stream = None
