"""The adversary (feature "adversary"): a bare libp2p peer that plays the cases of SW_PARAMS.cases byte
for byte (interop-tests/lib/cases.ts) and reports what the implementation under test answered. Beside
the cases it keeps a well-behaved stream open, to show that the peer under test keeps serving."""
from __future__ import annotations

import time
from typing import Any

import trio

from .context import Ctx
from .rawpeer import EVENTS, Watch, dial, write
from .wirepeek import accept, close_normal, open_subscribe, varint, watermark


def frame_bytes(f: Any) -> bytes:
    """The bytes of one case frame: hex, or a batch padded with unknown key 99 to an exact body length."""
    if isinstance(f, str):
        return bytes.fromhex(f)
    batch = bytes.fromhex(f["pad_batch_hex"])
    head = batch[0]
    if (head & 0xE0) != 0xA0 or (head & 0x1F) >= 23:
        raise ValueError("pad_batch_hex must be a map of fewer than 23 entries")
    body_length = int(f["body_length"])
    pad = body_length - len(batch) - 2 - 5
    if pad < 65536:
        raise ValueError("body_length too small for a 4-byte byte-string head")
    prefix = varint(body_length)
    if f.get("prefix_only") is True:
        return prefix
    body = bytes([head + 1]) + batch[1:] + b"\x18\x63\x5a" + pad.to_bytes(4, "big") + bytes(pad)
    return prefix + body


def now_us() -> int:
    return time.time_ns() // 1000


def settings(ctx: Ctx) -> tuple[list[dict[str, Any]], float, str]:
    timeout_s = float(ctx.params.get("case_timeout_ms", 3000)) / 1000
    return ctx.param("cases", list), timeout_s, ctx.param("witness_port", str)


async def send_case(stream: Any, c: dict[str, Any], timeout_s: float) -> str | None:
    try:
        with trio.fail_after(timeout_s):
            for f in c["frames"]:
                await write(stream, frame_bytes(f))
            if c.get("end_write"):
                await stream.close()
        return None
    except BaseException as err:  # noqa: BLE001 - reported, the case goes on
        if isinstance(err, trio.Cancelled):
            raise
        return f"{type(err).__name__}: {err}"


async def adversary_dialer(ctx: Ctx, host: Any) -> dict[str, Any]:
    cases, timeout_s, witness = settings(ctx)
    outcomes: list[dict[str, Any]] = []
    async with trio.open_nursery() as nursery:
        ws = await dial(host, ctx.peer_addr, [str(EVENTS)])
        ww = Watch(ws)
        nursery.start_soon(ww.run)
        await write(ws, open_subscribe(witness))
        witness_accepted = await ww.wait_messages(1, timeout_s) and ww.messages[0]["type"] == "accept"
        for c in cases:
            expect = c.get("expect", {})
            s = await dial(host, ctx.peer_addr, [str(EVENTS)])
            w = Watch(s, expect.get("close_optional") is not True)
            nursery.start_soon(w.run)
            o: dict[str, Any] = {"id": c["id"], "received": [], "end": "timeout"}
            if c.get("open") is not None:
                await write(s, frame_bytes(c["open"]))
                o["accepted"] = await w.wait_messages(1, timeout_s) and w.messages[0]["type"] == "accept"
            if c.get("open") is None or o.get("accepted") is True:
                err = await send_case(s, c, timeout_s)
                if err is not None:
                    o["error"] = f"writing the case: {err}"
            else:
                try:
                    await s.reset()
                except Exception:
                    pass
            o["end"] = await w.end(timeout_s)
            o["received"] = w.received
            outcomes.append(o)
        await trio.sleep(0.15)
        watermarks = sum(1 for m in ww.messages if m["type"] == "watermark")
        alive = ww.ended is None and not ww.remote_ended and not any(m["type"] == "close" for m in ww.messages)
        fs = await dial(host, ctx.peer_addr, [str(EVENTS)])
        fw = Watch(fs)
        nursery.start_soon(fw.run)
        await write(fs, open_subscribe(witness))
        fresh = await fw.wait_messages(1, timeout_s) and fw.messages[0]["type"] == "accept"
        for s, w in ((ws, ww), (fs, fw)):
            if w.ended is None:
                try:
                    await write(s, close_normal())
                except Exception:
                    pass
                await w.close_write()
        with trio.move_on_after(2):
            while ww.ended is None or fw.ended is None:
                await trio.sleep(0.02)
        nursery.cancel_scope.cancel()
    return {"outcomes": outcomes, "witness": {"accepted": witness_accepted, "watermarks": watermarks,
                                              "alive_at_end": alive, "fresh_accept": fresh}}


async def adversary_listener(ctx: Ctx, host: Any) -> dict[str, Any]:
    cases, timeout_s, witness = settings(ctx)
    by_port = {c["port"]: c for c in cases if c.get("port") is not None}
    outcomes: dict[str, dict[str, Any]] = {}
    watches: dict[str, Watch] = {}
    tally = {"accepted": 0, "watermarks": 0}

    async def serve_witness(s: Any, watch: Watch, port: str) -> None:
        await write(s, accept(port, "spike", 8, now_us()))
        tally["accepted"] += 1
        while watch.ended is None and not watch.remote_ended and not any(m["type"] == "close" for m in watch.messages):
            try:
                await write(s, watermark(0, now_us()))
            except Exception:
                break
            tally["watermarks"] += 1
            await trio.sleep(0.05)
        await watch.close_write()

    async def serve_case(s: Any) -> None:
        watch = Watch(s, False)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(watch.run)
            if not await watch.wait_messages(1, timeout_s) or watch.messages[0]["type"] != "open":
                await s.reset()
                nursery.cancel_scope.cancel()
                return
            open_msg = watch.messages[0].get("message", {})
            port = open_msg.get("port")
            if port == witness:
                await serve_witness(s, watch, port)
                with trio.move_on_after(2):
                    while watch.ended is None:
                        await trio.sleep(0.02)
                nursery.cancel_scope.cancel()
                return
            c = by_port.get(port)
            if c is None:
                await write(s, _reject_unknown_port())
                await watch.close_write()
                nursery.cancel_scope.cancel()
                return
            if c.get("expect", {}).get("close_optional") is not True:
                watch.close_on_remote_end()
                if watch.remote_ended:
                    await watch.close_write()
            o: dict[str, Any] = {"id": c["id"], "open": {k: v for k, v in open_msg.items() if v is not None},
                                 "received": [], "end": "timeout"}
            # Recorded at once: if the run ends while the case still waits, it is reported as it stands.
            outcomes[c["id"]] = o
            watches[c["id"]] = watch
            err = await send_case(s, c, timeout_s)
            if err is not None:
                o["error"] = f"writing the case: {err}"
            o["end"] = await watch.end(timeout_s)
            o["received"] = watch.received[1:]
            nursery.cancel_scope.cancel()

    async with trio.open_nursery() as nursery:
        async def handler(stream: Any) -> None:
            try:
                await serve_case(stream)
            except Exception as err:  # noqa: BLE001 - one case's failure is reported, the others go on
                ctx.log(f"case stream failed: {type(err).__name__}: {err}")

        host.set_stream_handler(EVENTS, handler)
        await ctx.ready()
        await ctx.done.wait()
        nursery.cancel_scope.cancel()
    for cid, o in outcomes.items():
        if o["end"] == "timeout" and not o["received"]:
            o["received"] = watches[cid].received[1:]
            o["error"] = "the run ended while the case waited for the stream to end"
    return {
        "outcomes": [outcomes.get(c["id"], {"id": c["id"], "received": [], "end": "timeout",
                                             "error": "the dialer never opened this case's port"}) for c in cases],
        "witness": tally,
    }


def _reject_unknown_port() -> bytes:
    # reject{unknown-port}: {0: 5, 1: 15}
    return bytes.fromhex("05a20005010f")
