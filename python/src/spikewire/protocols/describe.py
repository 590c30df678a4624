"""The describe protocol (spec §9.1): one request, one description, then the end of the stream."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import trio
from libp2p.abc import IHost, INetStream
from libp2p.peer.id import ID

from spikewire.codec.messages import Close, DecodeContext, DescribeRequest, Description, MessageType
from spikewire.errors import ProtocolError, RemoteCloseError, SpikewireError
from spikewire.net.host import dial, open_stream
from spikewire.wire.stream import FramedStream

log = logging.getLogger("spikewire.describe")

PROTOCOL = "/spikewire/describe/1.0.0"
TIMEOUT_S = 10.0
"""Both ends give up after 10 s without the request / the description (spec §9.1)."""

Authorize = Callable[[ID], bool]

LISTENER = DecodeContext.make(expected=[MessageType.DESCRIBE_REQUEST, MessageType.CLOSE])
DIALER = DecodeContext.make(expected=[MessageType.DESCRIPTION, MessageType.CLOSE])


async def serve_describe(stream: INetStream, describe: Callable[[], Description],
                         authorize: Authorize | None = None, timeout: float = TIMEOUT_S) -> None:
    """Answer one describe stream. Never raises: errors end this stream only (spec §9.2.10)."""
    fs = FramedStream(stream)
    try:
        await _serve(fs, describe, authorize, timeout)
    except SpikewireError as err:
        log.debug("describe stream from %s failed: %s %s", fs.peer, err.code, err)
    except Exception as err:  # a bug of ours: end this stream, keep the node serving
        log.warning("describe stream from %s: internal error: %r", fs.peer, err)
        await fs.reset("internal-error", "internal error")


async def _serve(fs: FramedStream, describe: Callable[[], Description],
                 authorize: Authorize | None, timeout: float) -> None:
    msg = await fs.read_message(LISTENER, timeout=timeout)
    if msg is None:
        # The dialer ended its write side without asking: no request can come, so give up at once as the
        # timeout would (spec Appendix B, revision 4).
        await fs.fail(ProtocolError("timeout", "the dialer ended its write side without a describe-request"))
        return
    if not isinstance(msg, DescribeRequest):  # a close included: "any other well-formed message" (§9.1)
        await fs.fail(ProtocolError("unexpected-message", f"{type(msg).__name__} on a describe stream"))
        return
    if authorize is not None and not authorize(fs.peer):
        await fs.close("unauthorized")
    else:
        await fs.write(describe())
        await fs.close_write()
    # The dialer may send nothing more but a close (spec §9.1): check what still comes, bounded in time.
    while True:
        nxt = await fs.read_message(LISTENER, timeout=timeout)
        if nxt is None or isinstance(nxt, Close):
            return
        await fs.fail(ProtocolError("unexpected-message", f"{type(nxt).__name__} after the describe-request"))
        return


async def request_description(fs: FramedStream, timeout: float = TIMEOUT_S) -> Description:
    """Run the dialer's side on a negotiated stream: send the request, read the description."""
    await fs.write(DescribeRequest())
    await fs.close_write()
    msg = await fs.read_message(DIALER, timeout=timeout)
    if msg is None:
        err = ProtocolError("unexpected-message", "the stream ended without a description")
        await fs.reset()
        raise err
    if isinstance(msg, Close):
        await fs.reset()
        raise RemoteCloseError(msg.code, msg.reason)
    if not isinstance(msg, Description):
        err = ProtocolError("unexpected-message", f"{type(msg).__name__} instead of a description")
        await fs.fail(err)
        raise err
    nxt = await fs.read_message(DIALER, timeout=timeout)
    if nxt is not None:
        err = ProtocolError("unexpected-message", f"{type(nxt).__name__} after the description")
        await fs.fail(err)
        raise err
    return msg


async def describe(host: IHost, addr: str | ID, timeout: float = TIMEOUT_S) -> Description:
    """Ask the node at `addr` (a /p2p/ multiaddr, or the PeerId of a connected peer) for its description."""
    with trio.fail_after(timeout + 1):
        peer = addr if isinstance(addr, ID) else await dial(host, addr, timeout)
        stream = await open_stream(host, peer, [PROTOCOL], timeout)
        return await request_description(FramedStream(stream), timeout)


def describe_handler(describe_fn: Callable[[], Description],
                     authorize: Authorize | None = None) -> Callable[[INetStream], Awaitable[None]]:
    async def handler(stream: INetStream) -> None:
        await serve_describe(stream, describe_fn, authorize)
    return handler
