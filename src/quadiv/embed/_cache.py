"""On-disk embedding cache (SQLite, keyed by embedder fingerprint and text sha256) and ``embed``."""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from quadiv._remote import method_map
from quadiv._sqlite import open_cache
from quadiv.embed._base import Embedder, cache_dir, get_embedder
from quadiv.errors import UsageError

_CHUNK = 900  # bound on SQL variables per statement


def text_key(text: str) -> bytes:
    """The cache key of a text: sha256 of its UTF-8 bytes (32 bytes)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


class EmbeddingCache:
    """Embeddings of one embedder stored in SQLite under the cache dir, one row per (embedder, text sha256).

    WAL mode, one commit per ``put`` call: a killed run keeps every batch it finished, several processes
    may read and write at once.
    """

    def __init__(self, embedder_name: str, path: str | os.PathLike | None = None):
        self.embedder_name = embedder_name
        self.path = Path(path) if path is not None else cache_dir() / "embeddings.sqlite"
        self._db = open_cache(self.path, "embedders (name TEXT PRIMARY KEY, dim INTEGER NOT NULL)",
                              "vectors (name TEXT NOT NULL, key BLOB NOT NULL, vec BLOB NOT NULL, "
                              "PRIMARY KEY (name, key)) WITHOUT ROWID")

    @property
    def dim(self) -> int | None:
        """Width of the stored vectors, None while nothing is stored for this embedder."""
        row = self._db.execute("SELECT dim FROM embedders WHERE name = ?", (self.embedder_name,)).fetchone()
        return None if row is None else int(row[0])

    def __len__(self) -> int:
        return self._db.execute(
            "SELECT COUNT(*) FROM vectors WHERE name = ?", (self.embedder_name,)
        ).fetchone()[0]

    def get(self, keys: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
        """Look keys up in bulk: (found (n,) bool, vectors (found.sum(), dim) float32 in key order)."""
        found: dict[bytes, bytes] = {}
        for lo in range(0, len(keys), _CHUNK):
            chunk = list(keys[lo : lo + _CHUNK])
            marks = ",".join("?" * len(chunk))
            found.update(
                self._db.execute(
                    f"SELECT key, vec FROM vectors WHERE name = ? AND key IN ({marks})",
                    [self.embedder_name, *chunk],
                )
            )
        mask = np.fromiter((k in found for k in keys), dtype=bool, count=len(keys))
        blobs = b"".join(found[k] for k in keys if k in found)
        dim = self.dim or 0
        return mask, np.frombuffer(blobs, dtype=np.float32).reshape(int(mask.sum()), dim).copy()

    def put(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        """Store vectors under keys and commit (one transaction)."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(keys):
            raise UsageError(f"need one vector per key ({len(keys)}), got shape {vectors.shape}")
        dim = self.dim
        if dim is not None and dim != vectors.shape[1]:
            raise UsageError(
                f"embedder '{self.embedder_name}' was cached with dim {dim} but now gives "
                f"{vectors.shape[1]}: give the changed model a new name, or delete {self.path}"
            )
        with self._db:
            self._db.execute(
                "INSERT OR IGNORE INTO embedders VALUES (?, ?)", (self.embedder_name, vectors.shape[1])
            )
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                ((self.embedder_name, k, v.tobytes()) for k, v in zip(keys, vectors)),
            )

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()


def embed(
    texts: Sequence[str],
    embedder: str | Embedder = "static",
    *,
    cache: bool | EmbeddingCache = True,
    batch_size: int = 4096,
    progress: Callable[[int], None] | None = None,
    engine=None,
    **options,
) -> np.ndarray:
    """Embed texts (or a pool's rendered texts), reusing cached rows: (n, dim) float32, unit rows, in order.

    Identical texts are encoded once; only texts missing from the cache are encoded, ``batch_size`` at a
    time, and each batch is committed to the cache before the next, so a killed run resumes where it
    stopped. ``progress(n_done)`` receives the number of input rows finished so far. ``engine`` (a
    :mod:`quadiv.engine` engine, e.g. Ray) encodes the missing batches as its tasks, the embedder
    stored once for all of them, two batches per CPU at a time; the driver stores each batch in the
    cache as it returns, in order, so a rerun embeds nothing twice.
    """
    texts = getattr(texts, "texts", texts)  # a quadiv Pool embeds its field or template
    if isinstance(texts, str):
        raise UsageError("embed() takes a sequence of texts, got a single string: wrap it in a list")
    if batch_size < 1:
        raise UsageError(f"batch_size must be a positive number of texts, got {batch_size}")
    model = get_embedder(embedder, **options) if isinstance(embedder, str) else embedder
    texts = list(texts)
    bad = next((i for i, t in enumerate(texts) if not isinstance(t, str)), None)
    if bad is not None:
        raise UsageError(f"text {bad} is {type(texts[bad]).__name__}, not a string: give every item a text")
    keys = [text_key(t) for t in texts]
    first: dict[bytes, int] = {}
    inverse = np.fromiter((first.setdefault(k, len(first)) for k in keys), dtype=np.int64, count=len(keys))
    unique_keys = list(first)
    unique_text = np.empty(len(unique_keys), dtype=object)
    unique_text[inverse] = texts
    rows_per_unique = np.bincount(inverse, minlength=len(unique_keys))
    store = _open_cache(cache, model.name)
    try:
        encode_all = functools.partial(method_map, engine, model, "encode")
        return _fill(encode_all, store, unique_keys, unique_text, rows_per_unique, batch_size, progress,
                     model)[inverse]
    finally:
        if store is not None and not isinstance(cache, EmbeddingCache):
            store.close()


def _open_cache(cache: bool | EmbeddingCache, name: str) -> EmbeddingCache | None:
    if isinstance(cache, EmbeddingCache):
        if cache.embedder_name != name:
            raise UsageError(f"the cache given is for embedder '{cache.embedder_name}', not '{name}'")
        return cache
    return EmbeddingCache(name) if cache else None


def _fill(encode_all, store, keys, texts, rows_per_unique, batch_size, progress, model) -> np.ndarray:
    """Vectors of the unique texts: cached ones looked up in bulk, the rest encoded (``encode_all``) and
    stored batch by batch; ``model.dim`` is asked only when there is no text (a remote model's dim costs a request)."""
    if store is not None:
        found, cached = store.get(keys)
    else:
        found, cached = np.zeros(len(keys), dtype=bool), None
    missing = np.flatnonzero(~found)
    out = np.empty((len(keys), cached.shape[1]), dtype=np.float32) if found.any() else None
    if out is not None:
        out[found] = cached
    done = int(rows_per_unique[found].sum())
    if progress is not None:
        progress(done)
    chunks = [missing[lo : lo + batch_size] for lo in range(0, missing.size, batch_size)]
    for idx, vectors in zip(chunks, encode_all(list(texts[idx]) for idx in chunks), strict=True):
        vectors = np.asarray(vectors, dtype=np.float32)
        if store is not None:
            store.put([keys[i] for i in idx], vectors)
        if out is None:
            out = np.empty((len(keys), vectors.shape[1]), dtype=np.float32)
        out[idx] = vectors
        done += int(rows_per_unique[idx].sum())
        if progress is not None:
            progress(done)
    return out if out is not None else np.empty((0, model.dim), dtype=np.float32)
