"""The node config file (docs/config.md): the same JSON format as `spikewire node --config FILE`.

Validation is driven by the published JSON Schema (schema/node-config.schema.json; a copy ships in
spikewire/data and a test keeps it identical), plus the four rules a schema cannot express (docs/config.md):
unique port names, strictly ascending channel lists, links/subscriptions naming local ports of the right
direction. The first broken field is named: `config.ports[0].channels must be an integer from 1 to
4294967295`. Hosted models (`hosts`: lif, adex, culture, synapse) run only in the TypeScript node: a config
that has them is refused with a ConfigError that says so.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from spikewire.errors import ConfigError

MAX_CONFIG_BYTES = 1 << 20


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    text = resources.files("spikewire").joinpath("data/node-config.schema.json").read_text("utf-8")
    return json.loads(text)


def _fail(path: str, what: str) -> ConfigError:
    return ConfigError(f"{path} {what}")


def _type_ok(value: Any, t: str) -> bool:
    if t == "object":
        return isinstance(value, dict)
    if t == "array":
        return isinstance(value, list)
    if t == "string":
        return isinstance(value, str)
    if t == "integer":
        return isinstance(value, int) and not isinstance(value, bool) or (
            isinstance(value, float) and math.isfinite(value) and value.is_integer())
    if t == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if t == "boolean":
        return isinstance(value, bool)
    return False


_TYPE_WORDS = {"object": "an object", "array": "an array", "string": "a text", "integer": "an integer",
               "number": "a number", "boolean": "true or false"}


def _range_words(s: dict[str, Any]) -> str:
    lo, hi = s.get("minimum"), s.get("maximum")
    if lo is not None and hi is not None:
        return f" from {_num(lo)} to {_num(hi)}"
    if lo is not None:
        return f" of at least {_num(lo)}"
    if hi is not None:
        return f" of at most {_num(hi)}"
    return ""


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(x)


def _check(value: Any, s: dict[str, Any], path: str) -> None:
    """Raise ConfigError for the first rule of schema `s` that `value` breaks."""
    if "const" in s and value != s["const"]:
        raise _fail(path, f"must be {json.dumps(s['const'])}")
    if "enum" in s and value not in s["enum"]:
        raise _fail(path, "must be one of " + ", ".join(json.dumps(e) for e in s["enum"]))
    if "oneOf" in s:
        _check_one_of(value, s["oneOf"], path)
    t = s.get("type")
    if t is not None:
        if not _type_ok(value, t):
            rng = _range_words(s) if t in ("integer", "number") else ""
            raise _fail(path, f"must be {_TYPE_WORDS.get(t, t)}{rng}")
        if t in ("integer", "number"):
            if ("minimum" in s and value < s["minimum"]) or ("maximum" in s and value > s["maximum"]):
                raise _fail(path, f"must be {_TYPE_WORDS[t]}{_range_words(s)}")
        elif t == "string":
            n = len(value)
            lo, hi = s.get("minLength", 0), s.get("maxLength")
            if n < lo or (hi is not None and n > hi):
                raise _fail(path, f"must be a text of {lo} to {hi} characters" if hi is not None
                            else f"must be a text of at least {lo} characters")
            if "pattern" in s and re.search(s["pattern"], value) is None:
                why = f" ({s['description']})" if "description" in s else ""
                raise _fail(path, f"must match {s['pattern']}{why}")
        elif t == "array":
            lo, hi = s.get("minItems", 0), s.get("maxItems")
            if len(value) < lo or (hi is not None and len(value) > hi):
                raise _fail(path, f"must hold {lo} to {hi} items" if hi is not None
                            else f"must hold at least {lo} items")
            items = s.get("items")
            if isinstance(items, list):
                for i, (v, sub) in enumerate(zip(value, items, strict=False)):
                    _check(v, sub, f"{path}[{i}]")
                if s.get("additionalItems") is False and len(value) > len(items):
                    raise _fail(path, f"must hold at most {len(items)} items")
            elif isinstance(items, dict):
                for i, v in enumerate(value):
                    _check(v, items, f"{path}[{i}]")
            if s.get("uniqueItems"):
                seen = set()
                for v in value:
                    key = json.dumps(v, sort_keys=True)
                    if key in seen:
                        raise _fail(path, f"must not hold {key} twice")
                    seen.add(key)
        elif t == "object":
            props = s.get("properties", {})
            for name in s.get("required", []):
                if name not in value:
                    raise _fail(f"{path}.{name}", "is required")
            for name, v in value.items():
                if name in props:
                    _check(v, props[name], f"{path}.{name}")
                elif s.get("additionalProperties") is False:
                    raise _fail(f"{path}.{name}", f"is not a known field (known: {', '.join(props)})")
    if "if" in s:
        try:
            _check(value, s["if"], path)
            branch = s.get("then")
        except ConfigError:
            branch = s.get("else")
        if branch is not None:
            _check(value, branch, path)


def _check_one_of(value: Any, options: list[dict[str, Any]], path: str) -> None:
    # Objects with a "type", "model" or similar const discriminator: report the errors of the matching branch.
    errors: list[tuple[dict[str, Any], ConfigError]] = []
    for opt in options:
        try:
            _check(value, opt, path)
            return
        except ConfigError as failure:
            errors.append((opt, failure))
    # The one option of the value's JSON type (e.g. the array of PeerIds rather than "*") names the field.
    same_type = [(opt, e) for opt, e in errors
                 if ("type" in opt and _type_ok(value, opt["type"]))
                 or ("const" in opt and type(opt["const"]) is type(value) and not isinstance(value, (dict, list)))]
    if len(same_type) == 1 and not isinstance(value, dict):
        raise same_type[0][1]
    if isinstance(value, dict):
        for opt, e in errors:
            for key, sub in opt.get("properties", {}).items():
                if key in value and (("const" in sub and value[key] == sub["const"])
                                     or ("enum" in sub and value[key] in sub["enum"])):
                    raise e
    if isinstance(value, dict):
        # A discriminator (a key every option fixes with const or enum) whose value no option takes.
        fixed = [{k for k, sub in o.get("properties", {}).items() if "const" in sub or "enum" in sub}
                 for o in options]
        keys = set.intersection(*fixed) if fixed else set()
        for key in sorted(keys):
            allowed: list[Any] = []
            for o in options:
                sub = o["properties"][key]
                allowed += [sub["const"]] if "const" in sub else list(sub["enum"])
            if key not in value:
                raise _fail(f"{path}.{key}", "is required")
            if value[key] not in allowed:
                words = [json.dumps(a) for a in allowed]
                listed = ", ".join(words[:-1]) + f" or {words[-1]}" if len(words) > 1 else words[0]
                raise _fail(f"{path}.{key}", f"must be {listed}")
    described = [o.get("description") or (json.dumps(o["const"]) if "const" in o else o.get("type", "?"))
                 for o in options]
    raise _fail(path, "must be one of: " + "; ".join(str(d) for d in described))


@dataclass
class NodeConfig:
    """A validated config. `raw` is the JSON object as read; `base_dir` resolves relative file names."""

    raw: dict[str, Any]
    base_dir: Path = field(default_factory=Path.cwd)

    @property
    def name(self) -> str:
        return self.raw["name"]

    @property
    def role(self) -> str:
        return self.raw.get("role", "other")

    @property
    def listen(self) -> list[str]:
        return list(self.raw.get("listen", ["/ip4/127.0.0.1/tcp/0"]))

    @property
    def identity(self) -> Path | None:
        ident = self.raw.get("identity")
        return None if ident is None else (self.base_dir / ident)

    @property
    def allow(self) -> str | list[str]:
        return self.raw.get("allow", "*")

    @property
    def ports(self) -> list[dict[str, Any]]:
        return list(self.raw.get("ports", []))

    @property
    def links(self) -> list[dict[str, Any]]:
        return list(self.raw.get("links", []))

    @property
    def subscriptions(self) -> list[dict[str, Any]]:
        return list(self.raw.get("subscriptions", []))

    @property
    def model(self) -> dict[str, Any] | None:
        return self.raw.get("model")

    def limit(self, name: str) -> int:
        """A limit of `limits`, or its default from the schema."""
        v = self.raw.get("limits", {}).get(name)
        if v is not None:
            return int(v)
        return int(schema()["properties"]["limits"]["properties"][name]["default"])

    def tuning(self, name: str) -> int:
        """watermarkIntervalMs, maxBatchEvents, latenessUs, flushIntervalUs, or the schema's default."""
        v = self.raw.get(name)
        return int(v) if v is not None else int(schema()["properties"][name]["default"])


def parse_config(obj: Any, base_dir: str | Path | None = None) -> NodeConfig:
    """Validate a config object (the parsed JSON) and return it; ConfigError names the first broken field."""
    hosts = obj.get("hosts") if isinstance(obj, dict) else None
    if isinstance(hosts, list) and hosts:
        models = sorted({str(h.get("model")) if isinstance(h, dict) else "?" for h in hosts})
        raise ConfigError(
            f"config.hosts: hosted models ({', '.join(models)}) run only in the TypeScript node "
            "(TypeScript-only); run this config with `spikewire node --config`, or remove `hosts`",
            "config-unsupported")
    _check(obj, schema(), "config")
    ports = obj.get("ports", [])
    seen: dict[str, int] = {}
    for i, p in enumerate(ports):
        if p["name"] in seen:
            raise _fail("config.ports", f"name {json.dumps(p['name'])} is used twice")
        seen[p["name"]] = i
        if "subscribe" in p and p["direction"] != "out":
            raise _fail(f"config.ports[{i}].subscribe", "is for out ports only")
        if "push" in p and p["direction"] != "in":
            raise _fail(f"config.ports[{i}].push", "is for in ports only")
        if "source" in p and p["direction"] != "out":
            raise _fail(f"config.ports[{i}].source", "is for out ports only")
    by_name = {p["name"]: p for p in ports}
    for i, link in enumerate(obj.get("links", [])):
        _ascending(link.get("channels"), f"config.links[{i}].channels")
        local = by_name.get(link["from"])
        if local is None or local["direction"] != "out":
            raise _fail(f"config.links[{i}].from", f"must name a local out port (got {link['from']!r})")
    for i, sub in enumerate(obj.get("subscriptions", [])):
        _ascending(sub.get("channels"), f"config.subscriptions[{i}].channels")
        local = by_name.get(sub["to"])
        if local is None or local["direction"] != "in":
            raise _fail(f"config.subscriptions[{i}].to", f"must name a local in port (got {sub['to']!r})")
    return NodeConfig(obj, Path(base_dir) if base_dir is not None else Path.cwd())


def _ascending(ids: list[int] | None, path: str) -> None:
    if ids is None:
        return
    for a, b in zip(ids, ids[1:], strict=False):
        if b <= a:
            raise _fail(path, "must be strictly ascending")


def load_config(path: str | Path) -> NodeConfig:
    """Read and validate a config file; relative file names in it are relative to the file."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{p} is larger than {MAX_CONFIG_BYTES} bytes", "config-unreadable")
        text = p.read_text("utf-8")
    except OSError as err:
        raise ConfigError(f"cannot read {p}: {err.strerror or err}", "config-unreadable") from err
    except UnicodeDecodeError as err:
        raise ConfigError(f"{p} is not UTF-8 text", "config-unreadable") from err
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as err:
        raise ConfigError(f"{p} is not JSON: {err}", "config-invalid") from err
    return parse_config(obj, p.parent)
