"""Embeddings of a whole pool as ``(row, id, key, embedding)`` Parquet shards with completion markers.

A directory written by :func:`embed_to_shards` (``quadiv embed``) holds

- ``_manifest.json``: the embedder, its width, the number of rows, rows per shard, the text field;
- ``part-00000.parquet`` ...: one shard per ``shard_rows`` consecutive input rows, columns ``row`` (0-based
  input row), ``id``, ``key`` (sha256 of the text: the local cache's key) and ``embedding``
  (``fixed_size_list<float32>[d]``, unit rows); readable by pyarrow, Ray Data, pandas, datasets;
- ``_done/part-00000``: the shard's completion marker (datatrove's scheme, SCALE.md 4.1), written after its
  Parquet file is in place (temp file, then rename), holding its row count and the digest of its keys.

A rerun skips every marked shard whose digest matches the input's texts, so a killed run resumes where it
stopped and embeds nothing twice; a shard runs here or as one task of an engine (Ray), which writes its
file itself, so no embedding passes through the driver. :func:`assembled_shards` assembles the shards once
into ``_embeddings.npy`` beside them (block by block, atomically) and memory-maps it, which every later
command (and every Ray worker) reads like any ``.npy`` pool. Files that start with "_" are skipped by
pyarrow's and Ray Data's Parquet readers, so the directory reads as one Parquet dataset.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from quadiv._remote import elsewhere, gpus_for, run_map, with_held
from quadiv.embed._base import Embedder
from quadiv.embed._cache import embed, text_key
from quadiv.errors import InputError, UsageError
from quadiv.io import atomic_write

FORMAT = "quadiv-embeddings/1"
MANIFEST, ASSEMBLED, DONE = "_manifest.json", "_embeddings.npy", "_done"  # "_": Parquet readers skip them


def shard_name(k: int) -> str:
    return f"part-{k:05d}"


def digest(keys: Sequence[bytes]) -> str:
    """sha256 over a shard's keys in row order: a marker's proof of which texts it holds."""
    return hashlib.sha256(b"".join(keys)).hexdigest()


def embed_to_shards(texts: Sequence[str], ids: Any, embedder: Embedder, directory: str | os.PathLike, *,
                    field: str | None = None, instruction_field: str | None = None, shard_rows: int = 100_000,
                    engine: Any = None,
                    progress: Callable[[int], None] | None = None) -> dict:
    """Embed ``texts`` into the shard directory, skipping shards already marked done; a summary dict.

    ``ids`` (one per text, a pyarrow array or list) is written beside each row; ``field`` and
    ``instruction_field`` (what the texts were made of) go into the manifest. Each shard is encoded
    here, or as one task of ``engine``, which writes the shard's file itself (the SQLite cache is not
    used: the shards are the record a rerun reuses).
    ``progress(n_done)`` receives the number of rows finished so far.
    """
    if shard_rows < 1:
        raise UsageError(f"`shard_rows` must be a positive number of rows, got {shard_rows}")
    root = Path(directory)
    n, keys = len(texts), [text_key(t) for t in texts]
    bounds = [(lo, min(lo + shard_rows, n)) for lo in range(0, n, shard_rows)]
    manifest = {"format": FORMAT, "embedder": embedder.name, "rows": n, "shard_rows": shard_rows,
                "shards": len(bounds), "field": field, "instruction_field": instruction_field}
    _claim(root, manifest)
    todo = [k for k, (lo, hi) in enumerate(bounds) if not _done(root, k, digest(keys[lo:hi]))]
    done = n - sum(bounds[k][1] - bounds[k][0] for k in todo)
    if progress is not None:
        progress(done)
    if todo:  # an assembly of the earlier shards is out of date from now on: rebuilt on the next load
        (root / ASSEMBLED).unlink(missing_ok=True)
    engine = elsewhere(engine)
    # on an engine: the embedder stored once, and each worker's copy reused by its next shards
    model, task = (embedder, write_shard) if engine is None else \
        (engine.share(embedder), functools.partial(with_held, write_shard))
    arguments = ((model, list(texts[bounds[k][0]:bounds[k][1]]), bounds[k][0], _slice(ids, *bounds[k]),
                  str(root), k) for k in todo)
    dims = set()
    for rows, dim in run_map(engine, task, arguments, gpus=0 if engine is None else gpus_for(engine, embedder)):
        dims.add(dim)
        done += rows
        if progress is not None:
            progress(done)
    if len(dims) > 1:
        raise UsageError(f"embedder '{embedder.name}' gave vectors of widths {sorted(dims)} across shards")
    return {"rows": n, "shards": len(bounds), "embedded_shards": len(todo), "skipped_shards": len(bounds) - len(todo),
            "embedder": embedder.name, "output": str(root)}


def write_shard(embedder: Embedder, texts: list[str], lo: int, ids: Any, root: str, k: int) -> tuple[int, int]:
    """Encode one shard (each distinct text once), write its Parquet file atomically, then its marker;
    (rows, width). A shard's body, here or in a task: the file is the result, not the vectors."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    X = embed(texts, embedder=embedder, cache=False)  # the shard itself is the record a rerun reuses
    keys = [text_key(t) for t in texts]
    d = X.shape[1]
    table = pa.table({
        "row": pa.array(np.arange(lo, lo + len(texts), dtype=np.int64)),
        "id": ids if isinstance(ids, pa.Array | pa.ChunkedArray) else pa.array(ids),
        "key": pa.array(keys, pa.binary(32)),
        "embedding": pa.FixedSizeListArray.from_arrays(pa.array(X.reshape(-1), pa.float32()), d),
    })
    directory = Path(root)
    with atomic_write(directory / f"{shard_name(k)}.parquet", "wb") as out:
        pq.write_table(table, out)
    with atomic_write(directory / DONE / shard_name(k)) as out:
        json.dump({"rows": len(texts), "dim": d, "digest": digest(keys)}, out)
    return len(texts), d


def assembled_shards(directory: str | os.PathLike, n_expected: int | None = None,
                     texts: Sequence[str] | None = None) -> Path:
    """The ``_embeddings.npy`` of a complete shard directory: its (n, d) float32 rows in input order,
    assembled from the shards on first use. With ``texts``, every row's key must match its text (unless
    the texts were joined with prompts, ``instruction_field``, which the caller's texts are not)."""
    root = Path(directory)
    manifest = read_manifest(root)
    n = manifest["rows"]
    if n_expected is not None and n != n_expected:
        raise InputError(f"holds embeddings of {n} rows, the input has {n_expected}", path=str(root),
                         fix="embed this input (quadiv embed INPUT -o NEW_DIR), or give the input it was made from")
    markers = [_marker(root, k) for k in range(manifest["shards"])]
    missing = [k for k, m in enumerate(markers) if m is None]
    if missing:
        shown = ", ".join(shard_name(k) for k in missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        raise InputError(f"is incomplete: {len(missing)} of {len(markers)} shards not done ({shown})", path=str(root),
                         fix="rerun the same `quadiv embed` command to finish it (done shards are kept)")
    if texts is not None and manifest.get("instruction_field") is None:
        _check_texts(root, manifest, markers, texts)
    assembled = root / ASSEMBLED
    if not assembled.exists():
        _assemble(root, manifest, markers, assembled)
    return assembled


def read_manifest(root: str | os.PathLike) -> dict:
    """The directory's manifest (embedder, rows, shard_rows, shards, field, instruction_field); a directory
    without a readable one is an InputError."""
    root = Path(root)
    try:
        manifest = json.loads((root / MANIFEST).read_text())
    except (OSError, ValueError):
        raise InputError(f"is not an embedding directory written by `quadiv embed` (no readable {MANIFEST})",
                         path=str(root), fix="give a .npy file, or a directory written by `quadiv embed`") from None
    if manifest.get("format") != FORMAT:
        raise InputError(f"has format {manifest.get('format')!r}, expected {FORMAT!r}", path=str(root),
                         fix="write it again with this quadiv's `quadiv embed`")
    return manifest


def _claim(root: Path, manifest: dict) -> None:
    """Write the manifest of a new directory, or check that an existing one is this run's."""
    if (root / MANIFEST).exists():
        old = read_manifest(root)
        changed = [key for key in ("embedder", "rows", "shard_rows", "field", "instruction_field")
                   if old.get(key) != manifest[key]]
        if changed:
            was = ", ".join(f"{key} {old.get(key)!r} (now {manifest[key]!r})" for key in changed)
            raise UsageError(f"{root} holds embeddings of another run: {was}; give a new --output, "
                             "or delete that directory")
        return
    if root.exists() and any(root.iterdir()):
        raise UsageError(f"{root} exists and is not an embedding directory: give a new --output")
    with atomic_write(root / MANIFEST) as out:
        json.dump(manifest, out, indent=1)


def _marker(root: Path, k: int) -> dict | None:
    """Shard k's completion marker, or None when the shard is not done (no marker, or no file)."""
    try:
        marker = json.loads((root / DONE / shard_name(k)).read_text())
    except (OSError, ValueError):
        return None
    return marker if (root / f"{shard_name(k)}.parquet").exists() else None


def _done(root: Path, k: int, expected: str) -> bool:
    """Whether shard k is done for these texts; a marker of other texts means the input changed."""
    marker = _marker(root, k)
    if marker is None:
        return False
    if marker.get("digest") != expected:
        raise UsageError(f"{root}: {shard_name(k)} was embedded from other texts than this input's rows "
                         "(the input changed since): give a new --output, or delete that directory")
    return True


def _check_texts(root: Path, manifest: dict, markers: list[dict], texts: Sequence[str]) -> None:
    """Each shard's digest against the given texts; the first differing row is named."""
    import pyarrow.parquet as pq

    size = manifest["shard_rows"]
    for k, marker in enumerate(markers):
        keys = [text_key(t) for t in texts[k * size:(k + 1) * size]]
        if marker["digest"] == digest(keys):
            continue
        stored = pq.read_table(root / f"{shard_name(k)}.parquet", columns=["key"]).column("key").to_pylist()
        row = k * size + next((i for i, (a, b) in enumerate(zip(keys, stored)) if a != b), 0)
        raise InputError(f"row {row + 1} of the input has another text than the one embedded there (from field "
                         f"'{manifest.get('field')}')", path=str(root),
                         fix="give the input (and --field) the directory was made from, or embed this one anew")


def _assemble(root: Path, manifest: dict, markers: list[dict], target: Path) -> None:
    """Write every shard's rows, in order, into one .npy (a temp file renamed into place)."""
    import pyarrow.parquet as pq

    dims = {m["dim"] for m in markers}
    if len(dims) != 1:
        raise InputError(f"shards of different widths {sorted(dims)}", path=str(root),
                         fix="embed the input again into a new directory")
    d, n = dims.pop(), manifest["rows"]
    with atomic_write(target, "wb") as out:
        np.lib.format.write_array_header_1_0(out, {"descr": "<f4", "fortran_order": False, "shape": (n, d)})
        for k in range(len(markers)):
            column = pq.read_table(root / f"{shard_name(k)}.parquet", columns=["embedding"]).column("embedding")
            values = column.combine_chunks().flatten().to_numpy()
            out.write(np.ascontiguousarray(values, dtype="<f4").tobytes())


def _slice(ids: Any, lo: int, hi: int) -> Any:
    """Rows [lo, hi) of the ids as a compact array or list (a pyarrow slice would carry its whole buffer)."""
    return ids.take(np.arange(lo, hi)) if hasattr(ids, "take") else list(ids[lo:hi])
