"""The codec entry point of the Python implementation (interop-tests/README.md, "Codec entry point").

Decodes a vector's bytes with spikewire's Python codec and prints the JSON mapping, or {"error": code};
encodes a message given in the JSON mapping and prints its bytes as hex.

    single:  SW_CODEC_INPUT=message|frame|stream|encode SW_CODEC_CONTEXT='{...}' codec.py < hex-or-json
    lines:   SW_CODEC_MODE=lines codec.py < requests.jsonl

Requests in lines mode: {"id", "input": "message"|"frame"|"stream", "hex", "context"} to decode, or
{"id", "input": "encode", "message": <JSON mapping>, "framed": bool} to encode (framed: with the length
prefix). Answers: {"id", "message", "events"?} or {"id", "error"} for decoding, {"id", "hex"} for encoding.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from spikewire.codec.framing import DEFAULT_MAX_FRAME, split_frames
from spikewire.codec.jsonmap import batch_events_json, message_from_json, message_to_json
from spikewire.codec.messages import Batch, DecodeContext, decode_message, encode_message, frame
from spikewire.codec.replay import SubscriberStream
from spikewire.errors import ProtocolError

Answer = dict[str, Any]


def decode_context(c: dict[str, Any]) -> DecodeContext:
    return DecodeContext.make(kind=c.get("kind"), channels=c.get("channels"), max_events=c.get("max_events"),
                              filter=c.get("filter"))


def decode_one(body: bytes, c: dict[str, Any]) -> Answer:
    message = decode_message(body, decode_context(c))
    answer: Answer = {"message": message_to_json(message)}
    if isinstance(message, Batch):
        answer["events"] = batch_events_json(message)
    return answer


def replay(data: bytes, c: dict[str, Any]) -> Answer:
    frames = split_frames(data, c.get("max_frame", DEFAULT_MAX_FRAME))
    stream = SubscriberStream(max_events=c.get("max_events", 4096), channel_filter=c.get("filter"))
    for index, body in enumerate(frames):
        try:
            stream.receive(body)
        except ProtocolError as error:
            return {"error": error.code, "fail_at": index}
    return {"ok": True, "gap": stream.gap}


def answer(request: dict[str, Any]) -> Answer:
    kind = request.get("input", "message")
    context = request.get("context") or {}
    try:
        if kind == "encode":
            message = message_from_json(request["message"])
            data = frame(message) if request.get("framed") else encode_message(message)
            return {"hex": data.hex()}
        data = bytes.fromhex(request.get("hex", ""))
        if kind == "message":
            return decode_one(data, context)
        if kind == "frame":
            frames = split_frames(data, context.get("max_frame", DEFAULT_MAX_FRAME))
            if len(frames) != 1:
                return {"error": "unsupported-input", "message": f"{len(frames)} frames"}
            return decode_one(frames[0], context)
        if kind == "stream":
            return replay(data, context)
        return {"error": "unsupported-input", "message": f"unknown input {kind!r}"}
    except ProtocolError as error:
        return {"error": error.code}
    except Exception as error:  # a bug of ours, reported as such rather than crashing the run
        return {"error": "internal-error", "message": f"{type(error).__name__}: {error}"}


def main() -> int:
    if os.environ.get("SW_CODEC_MODE") == "lines":
        for line in sys.stdin:
            if not line.strip():
                continue
            request_id: Any = None
            try:
                request = json.loads(line)
                request_id = request.get("id")
                out = {"id": request_id, **answer(request)}
            except Exception as error:
                out = {"id": request_id, "error": "unsupported-input", "message": str(error)}
            sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()
        return 0
    raw = sys.stdin.read()
    context = json.loads(os.environ.get("SW_CODEC_CONTEXT") or "{}")
    kind = os.environ.get("SW_CODEC_INPUT", "message")
    if kind == "encode":
        document = json.loads(raw)
        request = {"input": "encode", "message": document.get("message", document),
                   "framed": document.get("framed", False)}
    else:
        request = {"input": kind, "hex": "".join(raw.split()), "context": context}
    sys.stdout.write(json.dumps(answer(request)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
