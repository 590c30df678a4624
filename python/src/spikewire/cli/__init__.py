"""`python -m spikewire <command>`: describe, clock, node (and tap, from the events layer).

Exit codes as the TypeScript CLI: 0 ok, 1 runtime failure, 2 usage error.
"""

from __future__ import annotations

import importlib
import logging
import os

from spikewire.cli.common import EXIT_FAILURE, EXIT_USAGE, HelpShown, UsageError, describe_error, err, out
from spikewire.version import VERSION

COMMANDS = {
    "keygen": ("create a node identity (Ed25519 key file) and print its PeerId", "spikewire.cli.keygen"),
    "node": ("run a node from a JSON config file", "spikewire.cli.node"),
    "describe": ("print what a remote node is: its ports, kinds, channels and models", "spikewire.cli.describe"),
    "tap": ("subscribe to a remote out port and print its events live", "spikewire.cli.tap"),
    "clock": ("measure a remote node's clock offset ± uncertainty, round trip and drift", "spikewire.cli.clock"),
}

HELP = f"""Usage: python -m spikewire <command> [options]

Commands:
{chr(10).join(f"  {name.ljust(10)}{summary}" for name, (summary, _) in COMMANDS.items())}

Run "python -m spikewire <command> --help" for a command's options.
Output is for people by default; --json prints one JSON object per line.
Exit codes: 0 ok, 1 runtime failure, 2 usage error.

Options:
  -h, --help      show this help
  -v, --version   print the version
"""


def main(argv: list[str]) -> int:
    if not os.environ.get("SPIKEWIRE_DEBUG"):
        logging.getLogger("libp2p").setLevel(logging.CRITICAL)
    else:
        logging.basicConfig(level=logging.DEBUG)
    if not argv:
        err(HELP.rstrip())
        return EXIT_USAGE
    name, rest = argv[0], argv[1:]
    if name in ("--help", "-h", "help"):
        if name == "help" and rest and rest[0] in COMMANDS:
            return run_command(rest[0], ["--help"])
        out(HELP.rstrip())
        return 0
    if name in ("--version", "-v"):
        out(VERSION)
        return 0
    if name not in COMMANDS:
        err(f"spikewire: unknown command {name!r} (commands: {', '.join(COMMANDS)}; see python -m spikewire --help)")
        return EXIT_USAGE
    return run_command(name, rest)


def run_command(name: str, argv: list[str]) -> int:
    try:
        try:
            module = importlib.import_module(COMMANDS[name][1])
        except ModuleNotFoundError as e:
            if e.name != COMMANDS[name][1]:
                raise
            err(f"spikewire {name}: this installation has no {name} command")
            return EXIT_FAILURE
        return int(module.run(argv))
    except HelpShown:
        return 0
    except UsageError as e:
        err(f"spikewire {name}: {e} (see python -m spikewire {name} --help)")
        return EXIT_USAGE
    except KeyboardInterrupt:
        err(f"spikewire {name}: interrupted")
        return EXIT_FAILURE
    except BaseException as e:  # every failure is reported in one line with exit code 1
        if isinstance(e, BaseExceptionGroup) and len(e.exceptions) == 1:
            e = _leaf(e)
        err(f"spikewire {name}: {describe_error(e)}")
        return EXIT_FAILURE


def _leaf(e: BaseException) -> BaseException:
    while isinstance(e, BaseExceptionGroup) and len(e.exceptions) == 1:
        e = e.exceptions[0]
    return e
