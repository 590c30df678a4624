#!/usr/bin/env python3
"""The Python implementation (python/src/spikewire) under the interop contract (interop-tests/README.md).
One process plays one role of one scenario:

  listener: start, print {"type":"listening"}, read `dialer-peer`, create the ports of SW_PORTS, put
            `listener-ready`, run the scenario until the harness puts `done`, print the result.
  dialer:   start, put `dialer-peer`, print {"type":"started"}, wait for `listener-ready`, run the
            scenario against SW_PEER_ADDR, print the result.

Exit code 0 when the role did what the scenario asks, 1 when it failed, 2 on bad configuration, 3 for a
scenario this implementation does not play.
"""
from __future__ import annotations

import os
import sys
import traceback
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import trio  # noqa: E402

from pyimpl.context import EXIT, KEYS, Ctx, context_from_env, emit_line  # noqa: E402
from pyimpl.generator import UsageError  # noqa: E402
from pyimpl.handlers import HANDLERS, Handler  # noqa: E402


async def run(ctx: Ctx) -> int:
    handler: Handler | None = HANDLERS.get(ctx.scenario, {}).get(ctx.role)
    if handler is None:
        emit_line({"type": "result", "ok": False,
                   "error": f"the py implementation does not play {ctx.role} in {ctx.scenario}"})
        return EXIT["unsupported"]
    fields: dict[str, Any] = {}
    ok = True
    error: str | None = None
    async with trio.open_nursery() as nursery:
        if ctx.role == "listener":
            nursery.start_soon(ctx.watch_done)
        async with handler.start(ctx) as peer:
            try:
                if ctx.role == "listener":
                    emit_line({"type": "listening", "peer": peer.peer_id, "multiaddrs": peer.multiaddrs})
                    dialer_peer = None
                    with trio.move_on_after(ctx.remaining_ms() / 1000) as scope:
                        async with trio.open_nursery() as race:
                            async def get_peer() -> None:
                                nonlocal dialer_peer
                                dialer_peer = await ctx.rv.get(KEYS["dialer_peer"], ctx.remaining_ms())
                                race.cancel_scope.cancel()

                            async def until_done() -> None:
                                await ctx.done.wait()
                                race.cancel_scope.cancel()
                            race.start_soon(get_peer)
                            race.start_soon(until_done)
                    if dialer_peer is None or scope.cancelled_caught:
                        raise RuntimeError("the run ended before the dialer put dialer-peer")
                    await peer.setup_listener(ctx, str(dialer_peer))
                else:
                    await ctx.rv.put(KEYS["dialer_peer"], peer.peer_id)
                    emit_line({"type": "started", "peer": peer.peer_id})
                    await ctx.rv.get(KEYS["listener_ready"], ctx.remaining_ms())
                with trio.fail_after(max(1.0, ctx.remaining_ms() / 1000)):
                    fields = await handler.run(ctx, peer)
                    if ctx.role == "listener":
                        await ctx.ready()
                        await ctx.done.wait()
            except UsageError:
                raise
            except Exception as err:  # noqa: BLE001 - the verdict of this role
                ok = False
                error = f"{type(err).__name__}: {err}"
                ctx.log(f"failed: {traceback.format_exc()}")
            # The verdict is known: report it first, then stop (bounded).
            if ctx.role == "listener":
                fields["clock"] = {"offset_us": ctx.clock_offset_us, "drift_ppm": ctx.clock_drift_ppm,
                                   "anchor_us": peer.anchor_us}
            emit_line({"type": "result", "ok": ok, **({} if error is None else {"error": error}), **fields})
            sys.stdout.flush()
            nursery.cancel_scope.cancel()
    return EXIT["ok"] if ok else EXIT["failed"]


def main() -> None:
    code = EXIT["failed"]
    try:
        ctx = context_from_env()
        code = trio.run(run, ctx)
    except UsageError as err:
        code = EXIT["usage"]
        sys.stderr.write(f"{err}\n")
        emit_line({"type": "result", "ok": False, "error": str(err)})
    except BaseException as err:  # noqa: BLE001 - last resort: report and fail
        sys.stderr.write(traceback.format_exc())
        emit_line({"type": "result", "ok": False, "error": f"{type(err).__name__}: {err}"})
    sys.stdout.flush()
    sys.stderr.flush()
    # py-libp2p can leave threads and tasks behind; the verdict is known, so leave now.
    os._exit(code)


if __name__ == "__main__":
    main()
