"""The JSON mapping of messages used by the test vectors (spec Appendix A): message <-> JSON object."""

from __future__ import annotations

from typing import Any

from spikewire.codec.messages import (
    Accept, Batch, ClockRequest, ClockResponse, Close, DescribeRequest, Description, Direction, Kind, Loss,
    Message, Mode, Model, Open, Param, Port, Reject, Watermark,
)
from spikewire.errors import CODE_NAMES, CODES, LOSS_REASON_NAMES, LOSS_REASONS


def _code_json(code: int) -> str | int:
    return CODE_NAMES.get(code, code)


def _code_value(code: str | int) -> int:
    return CODES[code] if isinstance(code, str) else int(code)


def _model_json(model: Model) -> dict[str, Any]:
    out: dict[str, Any] = {"name": model.name}
    if model.params is not None:
        out["params"] = [[p.name, p.value, p.unit] for p in model.params]
    return out


def _model_value(obj: dict[str, Any]) -> Model:
    params = obj.get("params")
    return Model(obj["name"], None if params is None else tuple(Param(n, v, u) for n, v, u in params))


def message_to_json(message: Message) -> dict[str, Any]:
    """A decoded message as its JSON mapping (absent optional fields are absent members)."""
    out: dict[str, Any] = {"type": message.TYPE.wire_name}

    def put(name: str, value: Any) -> None:
        if value is not None:
            out[name] = value

    if isinstance(message, Description):
        out["name"] = message.name
        out["role"] = message.role
        ports = []
        for port in message.ports:
            p: dict[str, Any] = {"name": port.name, "direction": port.direction.name.lower(),
                                 "kind": port.kind.name.lower(), "channels": port.channels}
            if port.model is not None:
                p["model"] = _model_json(port.model)
            ports.append(p)
        out["ports"] = ports
        out["software"] = message.software
        put("model", None if message.model is None else _model_json(message.model))
        put("protocols", None if message.protocols is None else list(message.protocols))
    elif isinstance(message, Open):
        out["mode"] = message.mode.name.lower()
        out["port"] = message.port
        put("channels", None if message.channels is None else list(message.channels))
        put("delay", message.delay)
        put("max_events", message.max_events)
        put("source", message.source)
    elif isinstance(message, Accept):
        out["port"] = message.port
        out["kind"] = message.kind.name.lower()
        out["channels"] = message.channels
        out["time"] = message.time
        put("max_events", message.max_events)
    elif isinstance(message, (Reject, Close)):
        out["code"] = _code_json(message.code)
        put("reason", message.reason)
    elif isinstance(message, Batch):
        out["seq"] = message.seq
        out["base"] = message.base
        out["count"] = message.count
        out["ch"] = message.ch.hex()
        out["dt"] = message.dt.hex()
        put("val", None if message.val is None else message.val.hex())
    elif isinstance(message, Watermark):
        out["seq"] = message.seq
        out["time"] = message.time
    elif isinstance(message, Loss):
        out["seq"] = message.seq
        out["count"] = message.count
        out["reason"] = LOSS_REASON_NAMES.get(message.reason, message.reason)
    elif isinstance(message, ClockRequest):
        out["id"] = message.id
        out["t1"] = message.t1
    elif isinstance(message, ClockResponse):
        out["id"] = message.id
        out["t1"] = message.t1
        out["t2"] = message.t2
        out["t3"] = message.t3
    return out


def batch_events_json(message: Batch) -> list[list[int | float]]:
    """The informative events list of a decoded batch: [channel, time] or [channel, time, value]."""
    if message.events is None:
        raise ValueError("the batch has not been decoded")
    channels = message.events.channels.tolist()
    times = message.events.times.tolist()
    if message.events.values is None:
        return [[c, t] for c, t in zip(channels, times)]
    return [[c, t, v] for c, t, v in zip(channels, times, message.events.values.tolist())]


def message_from_json(obj: dict[str, Any]) -> Message:
    """A message from its JSON mapping (the inverse of message_to_json; no range checks)."""
    kind = obj["type"]
    if kind == "describe-request":
        return DescribeRequest()
    if kind == "description":
        ports = tuple(
            Port(p["name"], Direction[p["direction"].upper()], Kind[p["kind"].upper()], p["channels"],
                 _model_value(p["model"]) if "model" in p else None)
            for p in obj["ports"])
        protocols = obj.get("protocols")
        return Description(obj["name"], obj["role"], ports, obj["software"],
                           _model_value(obj["model"]) if "model" in obj else None,
                           None if protocols is None else tuple(protocols))
    if kind == "open":
        channels = obj.get("channels")
        return Open(Mode[obj["mode"].upper()], obj["port"], None if channels is None else tuple(channels),
                    obj.get("delay"), obj.get("max_events"), obj.get("source"))
    if kind == "accept":
        return Accept(obj["port"], Kind[obj["kind"].upper()], obj["channels"], obj["time"], obj.get("max_events"))
    if kind == "reject":
        return Reject(_code_value(obj["code"]), obj.get("reason"))
    if kind == "close":
        return Close(_code_value(obj["code"]), obj.get("reason"))
    if kind == "batch":
        val = obj.get("val")
        return Batch(obj["seq"], obj["base"], obj["count"], bytes.fromhex(obj["ch"]), bytes.fromhex(obj["dt"]),
                     None if val is None else bytes.fromhex(val))
    if kind == "watermark":
        return Watermark(obj["seq"], obj["time"])
    if kind == "loss":
        reason = obj["reason"]
        return Loss(obj["seq"], obj["count"], LOSS_REASONS[reason] if isinstance(reason, str) else int(reason))
    if kind == "clock-request":
        return ClockRequest(obj["id"], obj["t1"])
    if kind == "clock-response":
        return ClockResponse(obj["id"], obj["t1"], obj["t2"], obj["t3"])
    raise ValueError(f"unknown message type {kind!r}")
