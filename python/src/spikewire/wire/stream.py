"""A py-libp2p stream carrying spikewire frames (spec §5, §9.2.10).

`FramedStream` reassembles frames from the byte stream (never trusting chunk boundaries), bounds every
frame by the max frame size before reading its body, and turns a failure into the spec's behaviour: send
`close{code}` (best effort), reset the stream, process nothing more from it. Writes put several frames into
one transport write.

Reads and writes may run in different trio tasks; writes are serialised so frames never interleave.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import trio
from libp2p.abc import INetStream
from libp2p.network.stream.exceptions import StreamClosed, StreamEOF, StreamError, StreamReset

from spikewire.codec.framing import FrameDecoder
from spikewire.codec.messages import NO_CONTEXT, Close, DecodeContext, decode_message, frame
from spikewire.net.host import receive_stamps
from spikewire.errors import CODES, ProtocolError, SpikewireError, StreamResetError

log = logging.getLogger("spikewire.wire")

MAX_FRAME = 1 << 20
"""Largest frame this end accepts by default (spec §5.2: at least 1 MiB)."""
READ_SIZE = 256 * 1024
"""Bytes asked of the transport per read; the muxer's window bounds what waits behind it."""
CLOSE_WRITE_TIMEOUT_S = 1.0
"""How long a best-effort close before a reset may wait for the transport (spec §5.3: MAY skip when blocked)."""


class StreamFailed(SpikewireError):
    """The stream cannot be used: its write side is closed (code `stream-closed`). A local report."""

    def __init__(self, message: str) -> None:
        super().__init__("stream-closed", message)


class FramedStream:
    """Frames over one libp2p stream.

    clock: when given (a function returning the local time, e.g. µs), each message is stamped with the
    time its last bytes arrived, read before any decoding (`last_arrival`): the clock client's t4 and the
    clock server's t2 (spec §9.3.3).
    """

    def __init__(self, stream: INetStream, *, max_frame: int = MAX_FRAME, read_size: int = READ_SIZE,
                 clock: Callable[[], float] | None = None) -> None:
        self.stream = stream
        self.max_frame = max_frame
        self._read_size = read_size
        self._decoder = FrameDecoder(max_frame)
        self._items: deque[tuple[bytes, float | None]] = deque()
        self._clock = clock
        self._eof = False
        self._failed: SpikewireError | None = None
        self._write_lock = trio.Lock()
        self._write_closed = False
        self._write_broken = False
        self._reset = False
        self.last_arrival: float | None = None
        self._rx_ns = receive_stamps(stream) if clock is not None else None

    # -- identity ---------------------------------------------------------------------------------------
    @property
    def peer(self) -> Any:
        """The remote PeerId."""
        return self.stream.muxed_conn.peer_id

    @property
    def protocol(self) -> str | None:
        p = self.stream.get_protocol()
        return str(p) if p is not None else None

    @property
    def failure(self) -> SpikewireError | None:
        return self._failed

    @property
    def write_closed(self) -> bool:
        return self._write_closed or self._write_broken or self._reset

    # -- reading ----------------------------------------------------------------------------------------
    async def read_item(self, *, timeout: float | None = None) -> bytes | None:
        """The next frame's item bytes, or None when the remote ended its write side between two frames.

        Raises ProtocolError (malformed-frame, frame-too-large) after closing and resetting the stream,
        ProtocolError('timeout') after `timeout` seconds without a whole frame (then close{timeout} + reset),
        StreamResetError when the peer reset the stream.
        """
        if self._items:
            item, self.last_arrival = self._items.popleft()
            return item
        if self._failed is not None:
            raise self._failed
        if self._items:
            item, self.last_arrival = self._items.popleft()
            return item
        if self._eof:
            return None
        if timeout is None:
            return await self._fill()
        with trio.move_on_after(timeout) as scope:
            return await self._fill()
        assert scope.cancelled_caught
        err = ProtocolError("timeout", f"no message within {timeout:g} s")
        await self.fail(err)
        raise err

    async def _fill(self) -> bytes | None:
        while not self._items:
            try:
                chunk = await self.stream.read(self._read_size)
            except StreamEOF as eof:
                if getattr(getattr(self.stream, "muxed_stream", None), "reset_received", False):
                    # py-libp2p 0.8.1 reports a reset that arrives when nothing is buffered as an end of
                    # stream (the yamux stream is dropped from its table); the muxed stream still knows.
                    await self._on_reset(eof)
                    continue
                chunk = b""
            except (StreamReset, StreamError, StreamClosed) as err:
                await self._on_reset(err)
                continue
            if not chunk:
                self._eof = True
                try:
                    self._decoder.finish()
                except ProtocolError as err:
                    await self.fail(err)
                    raise
                return None
            at = self._arrival_time()
            try:
                items = self._decoder.feed(chunk)
            except ProtocolError as err:
                await self.fail(err)
                raise
            for item in items:
                self._items.append((item, at))
        item, self.last_arrival = self._items.popleft()
        return item

    def _arrival_time(self) -> float | None:
        """The local time the latest bytes arrived: the connection's socket read when known (see
        net.host.receive_stamps), moved onto this stream's clock by the time elapsed since."""
        if self._clock is None:
            return None
        now = self._clock()
        rx = self._rx_ns() if self._rx_ns is not None else None
        if rx is None:
            return now
        age_ns = time.time_ns() - rx
        if age_ns < 0 or age_ns > 1_000_000_000:  # a clock step, or not this message's read: do not trust it
            return now
        return now - age_ns // 1000

    async def _on_reset(self, err: BaseException) -> None:
        """The peer reset the stream. py-libp2p raises the reset before handing over bytes that arrived
        before it, so the `close{code}` a peer sends before its reset (§5.3, §9.2.10) would be lost: take
        those bytes from the muxer's buffer, deliver their whole frames first, then report the reset."""
        self._reset = True
        if self._failed is None:
            self._failed = StreamResetError(f"the peer reset the stream ({err or 'reset'})")
        leftover = _unread_bytes(self.stream)
        if leftover:
            at = self._arrival_time()
            try:
                items = self._decoder.feed(leftover)
            except ProtocolError:
                items = []
            for item in items:
                self._items.append((item, at))
        if not self._items:
            raise self._failed from err
        # The frames come first; the read after them raises the reset (self._failed).

    async def read_message(self, context: DecodeContext | None = None, *,
                           timeout: float | None = None) -> Any | None:
        """The next message decoded with `context` (spec §7.5 checks), or None at a clean end between frames.

        A frame, CBOR or message error closes the stream with its code, resets it, and is raised.
        """
        item = await self.read_item(timeout=timeout)
        if item is None:
            return None
        try:
            return decode_message(item, context or NO_CONTEXT)
        except ProtocolError as err:
            await self.fail(err)
            raise

    # -- writing ----------------------------------------------------------------------------------------
    async def write(self, *messages: Any) -> None:
        """Frame and send messages in one transport write."""
        if not messages:
            return
        data = frame(messages[0]) if len(messages) == 1 else b"".join(frame(m) for m in messages)
        await self.write_bytes(data)

    async def write_bytes(self, data: bytes) -> None:
        """Send bytes that already hold whole frames."""
        if self.write_closed:
            raise StreamFailed("the write side of this stream is closed")
        async with self._write_lock:
            try:
                await self.stream.write(data)
            except (StreamReset, StreamError, StreamClosed) as err:
                self._write_broken = True  # the transport gave up (a reset, or a window that stayed closed)
                raise StreamResetError(f"write failed: the stream was reset ({err or 'reset'})") from err

    async def close_write(self) -> None:
        """Close the write side without a message (the normal end of a description or of clock responses)."""
        if self.write_closed:
            return
        self._write_closed = True
        async with self._write_lock:
            try:
                await self.stream.close_write()  # type: ignore[attr-defined]  # NetStream has it
            except Exception as err:  # the stream is gone already: nothing left to close
                log.debug("close_write failed: %s", err)

    async def close(self, code: int | str = 0, reason: str | None = None) -> None:
        """End the stream: send close{code} and close the write side (spec §8.9, §9.2.10)."""
        if self.write_closed:
            return
        try:
            await self.write(Close(_code_number(code), reason))
        except (StreamFailed, StreamResetError):
            return
        await self.close_write()

    async def reset(self, code: int | str | None = None, reason: str | None = None) -> None:
        """Send close{code} best effort (skipped when the write side is closed or blocked), then reset."""
        if self._reset:
            return
        if code is not None and not self.write_closed:
            with trio.move_on_after(CLOSE_WRITE_TIMEOUT_S):
                try:
                    await self.write(Close(_code_number(code), reason))
                except (StreamFailed, StreamResetError):
                    pass
        self._reset = True
        with trio.CancelScope(shield=True):
            try:
                await self.stream.reset()
            except Exception as err:
                log.debug("reset failed: %s", err)

    async def fail(self, err: SpikewireError) -> None:
        """Fail the stream with a registry error: close{code} best effort, reset, refuse further reads."""
        if self._failed is None:
            self._failed = err
        self._items.clear()  # nothing more from this stream is processed (§5.3)
        if err.number is not None:
            await self.reset(err.number, _reason(err))
        else:
            await self.reset(CODES["internal-error"], _reason(err))


def _unread_bytes(stream: INetStream) -> bytes:
    """Bytes py-libp2p's yamux holds for this stream that were never read (taken out of its buffer)."""
    muxed = getattr(stream, "muxed_stream", None)
    conn = getattr(muxed, "conn", None)
    buffers = getattr(conn, "stream_buffers", None)
    sid = getattr(muxed, "stream_id", None)
    if not isinstance(buffers, dict) or sid is None:
        return b""
    buf = buffers.get(sid)
    if not buf:
        return b""
    data = bytes(buf)
    buf.clear()
    return data


def unwrap(err: BaseException) -> BaseException:
    """The first error inside trio's exception groups (nurseries wrap what their tasks raise), preferring a
    SpikewireError; cancellations are skipped."""
    if not isinstance(err, BaseExceptionGroup):
        return err
    leaves: list[BaseException] = []
    stack: list[BaseException] = [err]
    while stack:
        e = stack.pop(0)
        if isinstance(e, BaseExceptionGroup):
            stack[:0] = list(e.exceptions)
        else:
            leaves.append(e)
    for e in leaves:
        if isinstance(e, SpikewireError):
            return e
    for e in leaves:
        if not isinstance(e, trio.Cancelled):
            return e
    return leaves[0] if leaves else err


def _code_number(code: int | str) -> int:
    return code if isinstance(code, int) else CODES[code]


def _reason(err: SpikewireError) -> str | None:
    text = str(err) or None
    if text is None:
        return None
    b = text.encode("utf-8")[:256]
    return b.decode("utf-8", errors="ignore")
