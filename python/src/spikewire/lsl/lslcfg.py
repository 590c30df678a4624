"""liblsl's configuration for the bridge: where it comes from, and a loopback-only file for tests.

liblsl reads its configuration once, at the first call that needs it, from the file named by the
environment variable LSLAPICFG (else ./lsl_api.cfg, ~/lsl_api/lsl_api.cfg, /etc/lsl_api/lsl_api.cfg).
`use_config(path)` sets LSLAPICFG before pylsl is imported; `loopback_config(session)` is the content the
tests and examples use: resolve on this machine only (no multicast to the LAN), IPv4 only, a session id
of their own so that streams of other runs on the machine are not found, and 127.0.0.1 as the one known
peer for unicast resolution.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any


def loopback_config(session: str) -> str:
    if not session or any(c in session for c in "\n[]="):
        raise ValueError("a session id is one line without [ ] =")
    return ("[ports]\nIPv6 = disable\n"
            "[multicast]\nResolveScope = machine\n"
            f"[lab]\nSessionID = {session}\nKnownPeers = {{127.0.0.1}}\n"
            "[log]\nlevel = -3\n")


def write_loopback_config(path: str | Path, session: str) -> Path:
    p = Path(path)
    p.write_text(loopback_config(session))
    return p


def use_config(path: str | Path | None) -> None:
    """Make liblsl read ``path``. liblsl reads its configuration once per process: once pylsl is loaded,
    asking for another file raises RuntimeError instead of being ignored."""
    if path is None:
        return
    want = str(Path(path).resolve())
    if "pylsl" in sys.modules and os.environ.get("LSLAPICFG") != want:
        raise RuntimeError(f"liblsl is loaded with {os.environ.get('LSLAPICFG')!r}; it cannot switch to {want!r} "
                           "in this process (use one configuration per process)")
    os.environ["LSLAPICFG"] = want


def pylsl() -> Any:
    """The pylsl module (imported on first use, after `use_config`)."""
    import pylsl as mod
    return mod
