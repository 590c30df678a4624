"""The Python implementation as the dialer under test in the adversarial scenarios: it subscribes to the
port of each case in turn (with the case's filter and max_events), lets each stream end however the
adversary makes it end, and keeps a well-behaved subscription open throughout."""
from __future__ import annotations

from typing import Any

import trio

from .context import Ctx


async def probe_cases(ctx: Ctx, peer: Any) -> dict[str, Any]:
    from spikewire.errors import RejectedError
    node = peer.node
    cases = ctx.param("cases", list)
    timeout_s = float(ctx.params.get("case_timeout_ms", 3000)) / 1000
    witness = node.events.subscribe(ctx.peer_addr, ctx.param("witness_port", str), reconnect=False)
    witness_state = {"open": False, "ended": False}

    async def drain_witness() -> None:
        try:
            async for _ in witness:
                pass
        except Exception as err:  # noqa: BLE001 - reported as the witness's end
            ctx.log(f"witness ended: {type(err).__name__}: {err}")
        witness_state["ended"] = True

    probes: list[dict[str, Any]] = []
    async with trio.open_nursery() as nursery:
        nursery.start_soon(drain_witness)
        with trio.fail_after(10):
            while witness.stats.connects == 0:
                if witness_state["ended"]:
                    raise RuntimeError(f"the witness subscription was not accepted: {witness.error}")
                await trio.sleep(0.005)
        for c in cases:
            if c.get("port") is None:
                continue
            asked = c.get("subscribe") or {}
            opts: dict[str, Any] = {"reconnect": False, "max_events": asked.get("max_events", 4096)}
            if (c.get("subscribe") or {}).get("channels") is not None:
                opts["channels"] = c["subscribe"]["channels"]
            s = node.events.subscribe(ctx.peer_addr, c["port"], **opts)
            events = 0
            end = "timeout"
            error: BaseException | None = None
            with trio.move_on_after(timeout_s):
                try:
                    async for batch in s:
                        events += len(batch)
                    end = "closed" if s.error is None else "failed"
                    error = s.error
                except RejectedError as err:
                    end, error = "rejected", err
                except Exception as err:  # noqa: BLE001 - the stream's failure is what the case tests
                    end, error = "failed", err
            if end == "timeout":
                with trio.move_on_after(1):
                    await s.aclose()
            probe = {"port": c["port"], "end": end, "events": events, "gap": s.stats.gap_events,
                     "lost": s.stats.lost_events}
            if error is not None:
                probe["error"] = f"{type(error).__name__}: {error}"
            probes.append(probe)
        before = witness.stats.watermarks
        await trio.sleep(0.3)
        alive = not witness_state["ended"] and witness.error is None
        result = {"probes": probes, "witness": {"accepted": True, "alive_at_end": alive,
                                                "watermarks_after_cases": witness.stats.watermarks - before}}
        nursery.cancel_scope.cancel()
    await witness.aclose()
    return result
