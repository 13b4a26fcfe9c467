"""Read a pool from JSONL, JSON, CSV/TSV, Parquet or a saved Hugging Face dataset directory.

A pool is a pyarrow table whose `id` column identifies each row. When the input has an `id` field its
values are kept (integers as int64, text as string; other types and empty ids are errors; ids are not
checked for uniqueness); otherwise `id` is the 0-based row number as int64, placed first.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from quadiv.errors import InputError, UsageError
from quadiv.io._csv import csv_fields, iter_csv_tables, read_csv_table
from quadiv.io._formats import detect_format, existing, first_line, missing_field, no_rows, reading
from quadiv.io._jsonl import is_json_lines, iter_jsonl_tables, read_json_document
from quadiv.io._lines import row_at

ID = "id"
_DELIMITERS = {"csv": ",", "tsv": "\t"}


def read(path: str | os.PathLike, *, columns: list[str] | None = None, batch_rows: int = 65536) -> pa.Table:
    """Read a whole file or saved dataset directory into a pool table (chunks of at most `batch_rows` rows).

    `columns` reads only those fields (plus `id`): Parquet, CSV and Hugging Face directories skip the
    others on disk; JSON Lines drops them chunk by chunk, so memory holds only what was asked for.
    """
    source, fmt = _source(path, batch_rows)
    with reading(source):
        if fmt in _DELIMITERS:
            table = read_csv_table(source, _DELIMITERS[fmt], _wanted(columns, _fields(source, fmt), source))
        elif fmt == "parquet":
            table = _parquet_table(source, _wanted(columns, _fields(source, fmt), source))
        else:
            tables = list(_projected(_raw_tables(source, fmt), columns, source))
            if not tables:
                raise no_rows(source)
            table = tables[0] if len(tables) == 1 else pa.concat_tables(tables, promote_options="permissive")
    pool = _with_id(_select(table, columns, source), 0, source)
    if pool.num_rows == 0:
        raise no_rows(source)
    return pa.Table.from_batches(pool.to_batches(max_chunksize=batch_rows), schema=pool.schema)


def iter_batches(path: str | os.PathLike, *, columns: list[str] | None = None,
                 batch_rows: int = 65536) -> Iterator[pa.RecordBatch]:
    """Stream a pool as record batches of `batch_rows` rows (the last may be shorter), with `id`.

    A missing file, an unknown type or a missing field is reported on the call; bad lines when the
    stream reaches them. Memory holds one 16 MiB chunk and one batch at a time. Types are fixed by the first block
    (Parquet, HF and CSV) or widen as later lines demand (JSON Lines: null -> string, int -> double,
    new fields); `read` returns the same rows as one table with the types unified.
    """
    source, fmt = _source(path, batch_rows)
    with reading(source):
        if fmt in _DELIMITERS:
            tables = iter_csv_tables(source, _DELIMITERS[fmt], _wanted(columns, _fields(source, fmt), source))
        elif fmt == "parquet":
            tables = _parquet_tables(source, _wanted(columns, _fields(source, fmt), source), batch_rows)
        else:
            tables = _raw_tables(source, fmt)
    return _pool_batches(_projected(tables, columns, source), source, batch_rows)


def _pool_batches(tables: Iterable[pa.Table], source: str, batch_rows: int) -> Iterator[pa.RecordBatch]:
    """Cut tables into batches and give each row its id; no rows at all is an InputError."""
    offset = 0
    with reading(source):
        for batch in _rebatch(tables, batch_rows):
            yield _with_id(pa.Table.from_batches([batch]), offset, source).to_batches()[0]
            offset += batch.num_rows
    if offset == 0:
        raise no_rows(source)


def _source(path: str | os.PathLike, batch_rows: int) -> tuple[str, str]:
    """Check the path and the batch size; name the format."""
    if not isinstance(batch_rows, int) or batch_rows < 1:
        raise UsageError(f"batch_rows must be a positive integer, got {batch_rows!r}")
    source = existing(path)
    return source, "hf" if os.path.isdir(source) else detect_format(source)


def _raw_tables(source: str, fmt: str) -> Iterator[pa.Table]:
    """Tables straight from a JSONL, JSON or HF source, before projection and ids."""
    if fmt == "hf":
        return _hf_tables(source)
    if fmt == "json" and not is_json_lines(source):
        return iter([read_json_document(source)])
    return iter_jsonl_tables(source)


def _wanted(columns: list[str] | None, available: list[str], source: str) -> list[str] | None:
    """The fields to read for `columns`: those, plus `id` when the input has one; a missing one errs."""
    if columns is None:
        return None
    for name in columns:
        if name not in available:
            raise missing_field(name, available, source)
    return ([ID] if ID in available and ID not in columns else []) + list(columns)


def _select(table: pa.Table, columns: list[str] | None, source: str) -> pa.Table:
    """Keep `id` (when present) and `columns`, in that order; a missing field is an InputError."""
    if columns is None:
        return table
    return table.select(_wanted(columns, table.column_names, source))


def _projected(tables: Iterable[pa.Table], columns: list[str] | None, source: str) -> Iterator[pa.Table]:
    for table in tables:
        yield _select(table, columns, source)


def _rebatch(tables: Iterable[pa.Table], rows: int) -> Iterator[pa.RecordBatch]:
    """Re-cut a stream of tables into contiguous record batches of exactly `rows` rows (the last fewer)."""
    held: pa.Table | None = None
    for table in tables:
        held = table if held is None else pa.concat_tables([held, table], promote_options="permissive")
        while held.num_rows >= rows:
            yield _contiguous(held.slice(0, rows))
            held = held.slice(rows, held.num_rows - rows)  # no length: a table without columns keeps all rows
    if held is not None and held.num_rows:
        yield _contiguous(held)


def _contiguous(table: pa.Table) -> pa.RecordBatch:
    return table.combine_chunks().to_batches()[0]


def _with_id(table: pa.Table, offset: int, source: str) -> pa.Table:
    """Normalise the input's `id` column, or prepend row numbers starting at `offset`."""
    if ID not in table.column_names:
        return table.add_column(0, ID, pa.array(np.arange(offset, offset + table.num_rows), pa.int64()))
    ids = table[ID]
    if pa.types.is_integer(ids.type):
        ids = ids.cast(pa.int64())
    elif pa.types.is_string(ids.type) or pa.types.is_large_string(ids.type):
        ids = ids.cast(pa.string())
    else:
        raise InputError(f"field 'id' holds {ids.type}, expected text or integers", path=source,
                         fix="convert the ids, or rename the field so that row numbers are used")
    if ids.null_count:
        row = offset + int(np.flatnonzero(ids.is_null().to_numpy(zero_copy_only=False))[0])
        raise InputError(f"{row_at(source, row)}: field 'id' is empty", path=source,
                         fix="give every row an id, or rename the field so that row numbers are used")
    return table.set_column(table.column_names.index(ID), ID, ids)


def _fields(source: str, fmt: str) -> list[str]:
    """The field names of a CSV/TSV header or a Parquet schema."""
    if fmt in _DELIMITERS:
        return csv_fields(source, _DELIMITERS[fmt])
    try:
        return pq.read_schema(source).names
    except (pa.ArrowException, OSError) as err:
        raise _bad_parquet(source, err) from None


def _parquet_table(source: str, columns: list[str] | None) -> pa.Table:
    try:
        return pq.read_table(source, columns=columns)
    except (pa.ArrowException, OSError) as err:
        raise _bad_parquet(source, err) from None


def _parquet_tables(source: str, columns: list[str] | None, rows: int) -> Iterator[pa.Table]:
    try:
        for batch in pq.ParquetFile(source).iter_batches(batch_size=rows, columns=columns):
            yield pa.Table.from_batches([batch])
    except (pa.ArrowException, OSError) as err:
        raise _bad_parquet(source, err) from None


def _bad_parquet(source: str, err: Exception) -> InputError:
    return InputError(f"not a readable Parquet file ({first_line(err)})", path=source,
                      fix="check that the file is Parquet and complete")


def _hf_tables(source: str) -> Iterator[pa.Table]:
    """Record batches of a `Dataset.save_to_disk` directory, memory-mapped from its Arrow stream files."""
    for shard in _hf_shards(Path(source)):
        try:
            for batch in pa.ipc.open_stream(pa.memory_map(str(shard))):
                yield pa.Table.from_batches([batch])
        except (pa.ArrowException, OSError) as err:
            raise InputError(f"not a readable Arrow stream file ({first_line(err)})", path=str(shard),
                             fix="save the dataset again with Dataset.save_to_disk") from None


def _hf_shards(root: Path) -> list[Path]:
    """The Arrow files that `state.json` lists, in order; a missing or damaged listing is an InputError."""
    fix = "save the dataset again with Dataset.save_to_disk"
    if (root / "dataset_dict.json").exists():
        splits = _json_key(root / "dataset_dict.json", "splits", fix)
        if not isinstance(splits, list) or not splits or not all(isinstance(s, str) for s in splits):
            raise InputError("'splits' is not a list of split names", path=str(root / "dataset_dict.json"), fix=fix)
        raise InputError(f"a saved DatasetDict with splits {', '.join(splits)}", path=str(root),
                         fix=f"pass one split's directory, e.g. {root / splits[0]}")
    state = root / "state.json"
    if not state.exists():
        raise InputError("a directory, but not a saved Hugging Face dataset (no state.json)", path=str(root),
                         fix="pass a data file or a directory written by Dataset.save_to_disk")
    entries = _json_key(state, "_data_files", fix)
    if not isinstance(entries, list) or not all(isinstance(e, dict) and isinstance(e.get("filename"), str)
                                                for e in entries):
        raise InputError("'_data_files' is not a list of {\"filename\": ...} entries", path=str(state), fix=fix)
    shards = [root / entry["filename"] for entry in entries]
    for shard in shards:
        if not shard.is_file():
            raise InputError(f"lists {shard.name}, which is missing", path=str(state), fix=fix)
    return shards


def _json_key(path: Path, key: str, fix: str) -> object:
    """The value of `key` in the JSON object in `path`; InputError naming the file and line otherwise."""
    try:
        doc = json.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError as err:
        raise InputError(f"not UTF-8 text (byte {err.start})", path=str(path), fix=fix) from None
    except json.JSONDecodeError as err:
        raise InputError(f"line {err.lineno}: invalid JSON ({err.msg}, column {err.colno})", path=str(path),
                         fix=fix) from None
    if not isinstance(doc, dict) or key not in doc:
        raise InputError(f"no '{key}' key in a JSON object", path=str(path), fix=fix)
    return doc[key]
