"""What the commands share: options parsing with usage errors (exit 2), output lines (text or JSON), tables."""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

from spikewire.codec.messages import Model

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """A command line the command cannot run: exit code 2."""

    code = "usage"


class HelpShown(Exception):
    """--help was printed: exit code 0."""


class Parser(argparse.ArgumentParser):
    """argparse that raises UsageError instead of exiting, and prints the command's own help text."""

    def __init__(self, prog: str, help_text: str) -> None:
        super().__init__(prog=prog, add_help=False, allow_abbrev=False)
        self.help_text = help_text
        self.add_argument("-h", "--help", action="store_true")

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)

    def parse(self, argv: list[str]) -> argparse.Namespace:
        if "-h" in argv or "--help" in argv:
            out(self.help_text.rstrip("\n"))
            raise HelpShown()
        ns = self.parse_args(argv)
        return ns


def out(line: str) -> None:
    try:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        pass


def err(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def dumps(obj: Any) -> str:
    """JSON as JavaScript's JSON.stringify writes it: compact, non-ASCII kept, integral floats as integers."""
    return json.dumps(_js(obj), separators=(",", ":"), ensure_ascii=False)


def _js(v: Any) -> Any:
    if isinstance(v, float):
        if not math.isfinite(v):
            return None
        return int(v) if v.is_integer() and abs(v) < 2**53 else v
    if isinstance(v, dict):
        return {k: _js(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_js(x) for x in v]
    return v


class Lines:
    def __init__(self, json_mode: bool) -> None:
        self.json = json_mode

    def print(self, obj: dict[str, Any], human: str) -> None:
        out(dumps(obj) if self.json else human)


def seconds(value: str | None, name: str) -> float | None:
    if value is None:
        return None
    try:
        n = float(value)
    except ValueError:
        n = math.nan
    if value.strip() == "" or not math.isfinite(n) or n <= 0 or n > 31_536_000:
        raise UsageError(f"--{name} must be a positive number of seconds (got {json.dumps(value)})")
    return n


def multiaddr_arg(s: str) -> str:
    if not s.startswith("/"):
        raise UsageError(f"{json.dumps(s)} is not a multiaddr (expected /ip4/…/tcp/…/p2p/…)")
    import multiaddr
    try:
        multiaddr.Multiaddr(s)
    except Exception as e:  # the multiaddr package raises several unrelated types
        raise UsageError(f"{json.dumps(s)} is not a valid multiaddr: {e}") from e
    return s


def table(rows: list[list[str]]) -> list[str]:
    widths: list[int] = []
    for r in rows:
        for i, c in enumerate(r):
            if i >= len(widths):
                widths.append(0)
            widths[i] = max(widths[i], len(c))
    return ["  ".join(c if i == len(r) - 1 else c.ljust(widths[i]) for i, c in enumerate(r)).rstrip() for r in rows]


def _num_text(v: int | float) -> str:
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
        return str(int(v))
    return str(v)


def model_text(m: Model | None) -> str:
    if m is None:
        return "-"
    if not m.params:
        return m.name
    parts = []
    for p in m.params:
        unit = "" if p.unit in ("", "1") else f" {p.unit}"
        parts.append(f"{p.name}={_num_text(p.value)}{unit}")
    return f"{m.name} ({', '.join(parts)})"


def describe_error(e: BaseException) -> str:
    """One line as the TypeScript CLI writes it: `<ErrorClass> <code>: <message>`."""
    code = getattr(e, "code", None)
    name = type(e).__name__
    message = getattr(e, "message", None) if isinstance(getattr(e, "message", None), str) else str(e)
    if isinstance(code, str) and isinstance(message, str) and message.startswith(f"{code}: "):
        message = message[len(code) + 2:]
    parts = [] if name in ("Exception", "") else [name]
    if isinstance(code, str) and code not in message:
        parts.append(code)
    text = f"{' '.join(parts)}: {message}" if parts else message
    return " ".join(text.split())
