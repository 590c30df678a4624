"""Raw libp2p streams for adversarial tests: write arbitrary bytes, then collect what the peer answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import trio
from libp2p.network.stream.exceptions import StreamEOF, StreamError, StreamReset

from spikewire.codec.framing import FrameDecoder
from spikewire.codec.messages import decode_message
from spikewire.net.host import dial, open_stream
from spikewire.wire.stream import _unread_bytes


@dataclass
class Answer:
    messages: list[Any] = field(default_factory=list)
    ended: str = ""  # "eof" (the peer closed its write side) or "reset"


async def collect(stream: Any, timeout: float = 20.0) -> Answer:
    """Read until the peer ends its write side or resets the stream; decode every frame."""
    dec = FrameDecoder()
    ans = Answer()
    with trio.fail_after(timeout):
        while True:
            try:
                chunk = await stream.read(65536)
            except StreamEOF:
                # py-libp2p reports a reset that arrives after the buffer was drained as an end of stream;
                # the muxed stream still knows it was reset.
                ans.ended = "reset" if getattr(stream.muxed_stream, "reset_received", False) else "eof"
                for item in dec.feed(_unread_bytes(stream)):
                    ans.messages.append(decode_message(item))
                break
            except (StreamReset, StreamError):
                ans.ended = "reset"
                # py-libp2p raises the reset before handing over what arrived before it (the close).
                for item in dec.feed(_unread_bytes(stream)):
                    ans.messages.append(decode_message(item))
                break
            if not chunk:
                ans.ended = "eof"
                break
            for item in dec.feed(chunk):
                ans.messages.append(decode_message(item))
    return ans


async def raw_stream(host: Any, addr: str, protocol: str) -> Any:
    peer = await dial(host, addr)
    return await open_stream(host, peer, [protocol])
