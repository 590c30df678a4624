"""Typed errors and the error-code registry of spec §10.1.

Every error that spikewire raises carries a stable kebab-case ``code``. Errors that correspond to a wire
code of the registry also carry its ``number``, which is what travels in ``close`` and ``reject`` (key 1).
"""

from __future__ import annotations

from typing import Final

#: The registry of spec §10.1: error name -> number. Fixed for version 1.
CODES: Final[dict[str, int]] = {
    "normal": 0,
    "malformed-frame": 1,
    "frame-too-large": 2,
    "invalid-cbor": 3,
    "invalid-message": 4,
    "unknown-message-type": 5,
    "unexpected-message": 6,
    "invalid-varint": 7,
    "column-mismatch": 8,
    "time-overflow": 9,
    "time-regression": 10,
    "channel-out-of-range": 11,
    "too-many-events": 12,
    "kind-mismatch": 13,
    "invalid-sequence": 14,
    "unknown-port": 15,
    "wrong-direction": 16,
    "unauthorized": 17,
    "too-many-streams": 18,
    "slow-consumer": 19,
    "timeout": 20,
    "shutdown": 21,
    "unsupported": 22,
    "internal-error": 23,
}

#: number -> name, the inverse of CODES.
CODE_NAMES: Final[dict[int, str]] = {number: name for name, number in CODES.items()}

#: How the sender of a close with this code ends the stream afterwards (§10.1 "then" column, for close):
#: "close" (its write side, gracefully) or "reset".
CLOSE_THEN: Final[dict[str, str]] = {
    "normal": "close",
    "malformed-frame": "reset",
    "frame-too-large": "reset",
    "invalid-cbor": "reset",
    "invalid-message": "reset",
    "unknown-message-type": "reset",
    "unexpected-message": "reset",
    "invalid-varint": "reset",
    "column-mismatch": "reset",
    "time-overflow": "reset",
    "time-regression": "reset",
    "channel-out-of-range": "reset",
    "too-many-events": "reset",
    "kind-mismatch": "reset",
    "invalid-sequence": "reset",
    "unknown-port": "close",
    "wrong-direction": "close",
    "unauthorized": "close",
    "too-many-streams": "close",
    "slow-consumer": "reset",
    "timeout": "reset",
    "shutdown": "close",
    "unsupported": "close",
    "internal-error": "reset",
}

#: Loss reasons of spec §10.2: name -> number. Unregistered reasons are treated as "other".
LOSS_REASONS: Final[dict[str, int]] = {
    "queue-overflow": 1,
    "source-overrun": 2,
    "safety-limit": 3,
    "late": 4,
    "other": 5,
}
LOSS_REASON_NAMES: Final[dict[int, str]] = {number: name for name, number in LOSS_REASONS.items()}

#: Roles of spec §10.3. Unregistered roles are treated as "other".
ROLES: Final[frozenset[str]] = frozenset({"neuron", "synapse", "culture", "source", "sink", "bridge", "other"})


def code_name(number: int) -> str | None:
    """The registered name of an error number, or None for an unregistered one (§7.4: not an error)."""
    return CODE_NAMES.get(number)


def code_number(name: str) -> int:
    """The number of a registered error name; KeyError for a name outside the registry."""
    return CODES[name]


class SpikewireError(Exception):
    """Base of every spikewire error.

    ``code`` is a stable kebab-case name (a §10.1 name for wire errors, or a local one such as
    ``config-invalid``); ``number`` is the §10.1 number when the code is in the registry, else None.
    """

    code: str
    number: int | None

    def __init__(self, code: str, message: str = "", *, number: int | None = None) -> None:
        self.code = code
        self.number = number if number is not None else CODES.get(code)
        self.message = message or code
        super().__init__(f"{code}: {self.message}" if message else code)


class ProtocolError(SpikewireError):
    """A peer broke a rule of the protocol; ``code`` is a §10.1 name that the receiver reports to it."""

    def __init__(self, code: str, message: str = "") -> None:
        if code not in CODES:
            raise ValueError(f"not a registry code: {code!r}")
        super().__init__(code, message)


class RemoteCloseError(SpikewireError):
    """The peer ended the stream with ``close`` and a code other than ``normal``.

    ``number`` is the code it sent (possibly unregistered); ``code`` its registered name, or
    ``"unregistered-<number>"`` when the registry has none. ``reason`` is the peer's text, if any.
    """

    def __init__(self, number: int, reason: str | None = None) -> None:
        name = CODE_NAMES.get(number, f"unregistered-{number}")
        self.reason = reason
        super().__init__(name, f"peer closed the stream: {name}" + (f" ({reason})" if reason else ""),
                         number=number)


class RejectedError(SpikewireError):
    """The acceptor answered an ``open`` with ``reject``; carries its code, number and reason."""

    def __init__(self, number: int, reason: str | None = None) -> None:
        name = CODE_NAMES.get(number, f"unregistered-{number}")
        self.reason = reason
        super().__init__(name, f"peer rejected the open: {name}" + (f" ({reason})" if reason else ""),
                         number=number)


class StreamResetError(SpikewireError):
    """The stream was reset (by the peer or the transport) without a close message."""

    def __init__(self, message: str = "stream reset") -> None:
        super().__init__("stream-reset", message)


class ConfigError(SpikewireError):
    """A configuration file or option is invalid; ``code`` is ``config-invalid`` unless stated."""

    def __init__(self, message: str, code: str = "config-invalid") -> None:
        super().__init__(code, message)
