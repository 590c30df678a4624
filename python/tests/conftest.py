"""Shared pytest fixtures and helpers for the spikewire Python tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
VECTORS = REPO / "interop-tests" / "vectors"


def load_vectors(*, exclude_areas: tuple[str, ...] = ("clocksync", "directory")) -> list[dict[str, Any]]:
    """Every vector file listed in index.json, except the given areas (directory: the relay's messages, spec §9.4)."""
    index = json.loads((VECTORS / "index.json").read_text(encoding="utf-8"))
    out = []
    for entry in index:
        if entry["area"] in exclude_areas:
            continue
        out.append(json.loads((VECTORS / entry["file"]).read_text(encoding="utf-8")))
    return out
