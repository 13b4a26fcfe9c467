"""On-disk score cache (SQLite, keyed by scorer fingerprint and item sha256) and ``score``."""
from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from quadiv._remote import method_map
from quadiv._sqlite import open_cache
from quadiv.embed import cache_dir, text_key
from quadiv.errors import UsageError
from quadiv.quality._base import Item, Scorer, Scores, get_scorer

_CHUNK = 900  # bound on SQL variables per statement
_TASK_ITEMS = 1024  # items per task on an engine: a reward model's batches of 8 go 128 to a task


def item_key(item: Item) -> bytes:
    """The cache key of an item: sha256 of its text, of instruction + U+001F + text for a pair, and of
    those + U+001F + reference when it has a reference."""
    key = item.text if item.instruction is None else f"{item.instruction}\x1f{item.text}"
    return text_key(key if item.reference is None else f"{key}\x1f{item.reference}")


class ScoreCache:
    """Scores of one scorer stored in SQLite under the cache dir, one row per (scorer name, item sha256).

    Each row holds the score and the item's extra columns as JSON. WAL mode, one commit per ``put``:
    a killed run keeps every batch it finished.
    """

    def __init__(self, scorer_name: str, path: str | os.PathLike | None = None):
        self.scorer_name = scorer_name
        self.path = Path(path) if path is not None else cache_dir() / "scores.sqlite"
        self._db = open_cache(self.path, "scores (name TEXT NOT NULL, key BLOB NOT NULL, record TEXT NOT NULL, "
                                         "PRIMARY KEY (name, key)) WITHOUT ROWID")

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM scores WHERE name = ?", (self.scorer_name,)).fetchone()[0]

    def get(self, keys: Sequence[bytes]) -> dict[bytes, dict]:
        """The stored records of those keys that have one: key -> {"score": float, "columns": {...}}."""
        found: dict[bytes, dict] = {}
        for lo in range(0, len(keys), _CHUNK):
            chunk = list(keys[lo: lo + _CHUNK])
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(f"SELECT key, record FROM scores WHERE name = ? AND key IN ({marks})",
                                    [self.scorer_name, *chunk])
            found.update((key, json.loads(record)) for key, record in rows)
        return found

    def put(self, keys: Sequence[bytes], scores: Scores) -> None:
        """Store one batch of scores under keys and commit (one transaction)."""
        records = [json.dumps({"score": _plain(scores.values[i]),
                               "columns": {c: _plain(v[i]) for c, v in scores.columns.items()}})
                   for i in range(len(keys))]
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO scores VALUES (?, ?, ?)",
                                 ((self.scorer_name, k, r) for k, r in zip(keys, records)))

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()


def _plain(value: object) -> object:
    """A JSON-safe Python value: numpy scalars unwrapped, NaN as null."""
    value = value.item() if isinstance(value, np.generic) else value
    return None if isinstance(value, float) and math.isnan(value) else value


def score(
    items: Sequence[Item | str],
    scorer: str | Scorer,
    *,
    cache: bool | ScoreCache = True,
    batch_size: int | None = None,
    progress: Callable[[int], None] | None = None,
    engine: Any = None,
    **params,
) -> Scores:
    """Score items (texts, or :class:`Item` pairs) with a scorer, reusing cached scores: one value per item.

    Identical items are scored once; only items missing from the cache are scored, ``batch_size`` (default:
    the scorer's) at a time, and each batch is committed before the next, so a killed run resumes where it
    stopped. ``progress(n_done)`` receives the number of input items finished so far. ``engine`` (a
    :mod:`quadiv.engine` engine, e.g. Ray) scores the missing batches as its tasks, the scorer stored
    once for all of them; the driver stores each batch's scores in the cache as they return.
    """
    if isinstance(items, str):
        raise UsageError("score() takes a sequence of texts or Items, got a single string: wrap it in a list")
    model = get_scorer(scorer, **params) if isinstance(scorer, str) else scorer
    items = [it if isinstance(it, Item) else Item(it) for it in items]
    bad = next((i for i, it in enumerate(items) if not isinstance(it.text, str)), None)
    if bad is not None:
        raise UsageError(f"item {bad} has a {type(items[bad].text).__name__} text, not a string")
    size = batch_size or model.batch_size
    if size < 1:
        raise UsageError(f"batch_size must be a positive number of items, got {size}")
    keys = [item_key(it) for it in items]
    first: dict[bytes, int] = {}
    inverse = np.fromiter((first.setdefault(k, len(first)) for k in keys), dtype=np.int64, count=len(keys))
    unique_keys = list(first)
    unique_items: list[Item] = [None] * len(unique_keys)  # type: ignore[list-item]
    for item, j in zip(items, inverse):
        unique_items[j] = item
    weight = np.bincount(inverse, minlength=len(unique_keys))
    store = cache if isinstance(cache, ScoreCache) else (ScoreCache(model.name) if cache else None)
    if store is not None and store.scorer_name != model.name:
        raise UsageError(f"the cache given is for scorer '{store.scorer_name}', not '{model.name}'")
    try:
        records = _fill(model, store, unique_keys, unique_items, weight, size, progress, engine)
    finally:
        if store is not None and not isinstance(cache, ScoreCache):
            store.close()
    return _assemble(records, inverse)


def _fill(model: Scorer, store: ScoreCache | None, keys: list[bytes], items: list[Item], weight: np.ndarray,
          size: int, progress: Callable[[int], None] | None, engine: Any = None) -> list[dict]:
    """Records of the unique items: cached ones looked up in bulk, the rest scored (here or as the
    engine's tasks) and stored batch by batch, in order."""
    found = store.get(keys) if store is not None else {}
    records: list[dict | None] = [found.get(k) for k in keys]
    missing = [i for i, r in enumerate(records) if r is None]
    done = int(weight.sum() - weight[missing].sum())
    if progress is not None:
        progress(done)
    chunks = [missing[lo: lo + size] for lo in range(0, len(missing), size)]
    batches = method_map(engine, model, "score", ([items[i] for i in idx] for idx in chunks),
                         per_task=max(1, _TASK_ITEMS // size))
    for idx, batch in zip(chunks, batches, strict=True):
        if len(batch.values) != len(idx):
            raise RuntimeError(f"scorer '{model.name}' returned {len(batch.values)} scores for {len(idx)} items")
        if store is not None:
            store.put([keys[i] for i in idx], batch)
        for j, i in enumerate(idx):
            records[i] = {"score": _plain(batch.values[j]),
                          "columns": {c: _plain(v[j]) for c, v in batch.columns.items()}}
        done += int(weight[idx].sum())
        if progress is not None:
            progress(done)
    return records  # type: ignore[return-value]


def _assemble(records: list[dict], inverse: np.ndarray) -> Scores:
    """The per-item Scores from the unique records: NaN for a null score, columns by name."""
    values = np.array([np.nan if r["score"] is None else r["score"] for r in records], dtype=np.float64)
    names = list(dict.fromkeys(c for r in records for c in r["columns"]))
    columns = {}
    for name in names:
        column = [r["columns"].get(name) for r in records]
        kinds = {type(v) for v in column if v is not None}
        if kinds <= {bool}:
            array = np.array([bool(v) for v in column], dtype=bool) if None not in column else \
                np.array(column, dtype=object)
        elif kinds <= {int, float}:
            array = np.array([np.nan if v is None else v for v in column], dtype=np.float64)
        else:
            array = np.array(column, dtype=object)
        columns[name] = array[inverse]
    return Scores(values[inverse], columns)
