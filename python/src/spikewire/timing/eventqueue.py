"""A bounded queue of events kept in key order, held as numpy column chunks (no Python object per event).

Used by the playout buffer (key: local delivery time) and the watermark merge (key: event time on the
common clock). Chunks arrive mostly in order, so appending is the common case; a chunk that starts before
the queue's last key is merged in with a stable sort (arrival order kept among equal keys).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Deque

import numpy as np

__all__ = ["Columns", "EventQueue", "as_columns"]


@dataclass(frozen=True)
class Columns:
    """Events as columns: ``key`` int64 (ordering), ``channels`` uint32, ``times`` int64 (as received),
    ``values`` float32 or None (spike events)."""

    key: np.ndarray
    channels: np.ndarray
    times: np.ndarray
    values: np.ndarray | None

    def __len__(self) -> int:
        return int(self.key.shape[0])

    def take(self, sl: slice | np.ndarray) -> "Columns":
        return Columns(self.key[sl], self.channels[sl], self.times[sl],
                       None if self.values is None else self.values[sl])

    @staticmethod
    def concat(parts: list["Columns"]) -> "Columns":
        if len(parts) == 1:
            return parts[0]
        vals = None if parts[0].values is None else np.concatenate([p.values for p in parts])  # type: ignore[misc]
        return Columns(np.concatenate([p.key for p in parts]), np.concatenate([p.channels for p in parts]),
                       np.concatenate([p.times for p in parts]), vals)


def as_columns(channels: np.ndarray, times: np.ndarray, values: np.ndarray | None,
               key: np.ndarray) -> Columns:
    """Validate and convert caller arrays (equal lengths, one dimension) into Columns."""
    ch = np.asarray(channels)
    t = np.asarray(times)
    k = np.asarray(key)
    if ch.ndim != 1 or t.ndim != 1 or k.ndim != 1 or not (ch.shape == t.shape == k.shape):
        raise ValueError("channels, times and keys must be one-dimensional arrays of equal length")
    vals = None
    if values is not None:
        vals = np.asarray(values, dtype=np.float32)
        if vals.shape != ch.shape:
            raise ValueError("values must have the length of channels")
    return Columns(k.astype(np.int64, copy=False), ch.astype(np.uint32, copy=False),
                   t.astype(np.int64, copy=False), vals)


class EventQueue:
    """Events in non-decreasing key order, at most ``max_events`` of them."""

    def __init__(self, max_events: int) -> None:
        if max_events < 1:
            raise ValueError("max_events must be >= 1")
        self.max_events = max_events
        self._chunks: Deque[Columns] = deque()
        self._len = 0
        self._weighted: bool | None = None

    def __len__(self) -> int:
        return self._len

    def room(self) -> int:
        return self.max_events - self._len

    def first_key(self) -> int | None:
        return int(self._chunks[0].key[0]) if self._chunks else None

    def last_key(self) -> int | None:
        return int(self._chunks[-1].key[-1]) if self._chunks else None

    def push(self, cols: Columns) -> None:
        """Insert events (the caller checks room() first). Keys within ``cols`` need not be sorted."""
        n = len(cols)
        if n == 0:
            return
        weighted = cols.values is not None
        if self._weighted is None:
            self._weighted = weighted
        elif self._weighted != weighted:
            raise ValueError("a queue holds either spike events (no values) or weighted events, not both")
        if n > 1 and np.any(cols.key[1:] < cols.key[:-1]):
            cols = cols.take(np.argsort(cols.key, kind="stable"))
        last = self.last_key()
        if last is None or int(cols.key[0]) >= last:
            self._chunks.append(cols)
        else:
            # Out of order: merge with the queued events that are not earlier than the new first key.
            merged = Columns.concat(list(self._chunks) + [cols])
            order = np.argsort(merged.key, kind="stable")
            self._chunks = deque([merged.take(order)])
        self._len += n

    def pop_until(self, bound: int, inclusive: bool) -> Columns | None:
        """Remove and return the events with key < bound (≤ bound when inclusive), in order."""
        out: list[Columns] = []
        while self._chunks:
            c = self._chunks[0]
            last = int(c.key[-1])
            if last < bound or (inclusive and last == bound):
                out.append(c)
                self._chunks.popleft()
                continue
            cut = int(np.searchsorted(c.key, bound, side="right" if inclusive else "left"))
            if cut > 0:
                out.append(c.take(slice(0, cut)))
                self._chunks[0] = c.take(slice(cut, None))
            break
        if not out:
            return None
        res = Columns.concat(out)
        self._len -= len(res)
        return res

    def pop_all(self) -> Columns | None:
        if not self._chunks:
            return None
        res = Columns.concat(list(self._chunks))
        self._chunks.clear()
        self._len = 0
        return res
