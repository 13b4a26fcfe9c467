"""Atomic writes: a temp file beside the target, fsync, os.replace; on failure nothing is left behind."""
from __future__ import annotations

import base64
import contextlib
import datetime
import decimal
import gzip
import json
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from quadiv.errors import UsageError
from quadiv.io._formats import detect_format


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w") -> Iterator[IO]:
    """Open `path` for writing ("w": UTF-8 text, "wb": bytes) so it appears whole or not at all.

    Writes go to a hidden temp file in the same directory, which is flushed, fsynced and renamed
    over `path` with os.replace when the block ends; if the block raises, the temp file is removed
    and `path` is untouched. Missing parent directories are created. An existing file's permissions
    are kept; a new file gets the usual umask permissions.
    """
    if mode not in ("w", "wb"):
        raise UsageError(f"atomic_write mode must be 'w' or 'wb', got {mode!r}")
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as err:
        raise UsageError(f"{path}: cannot write there ({err.strerror}); choose another output path") from None
    try:
        text = {"encoding": "utf-8", "newline": ""} if mode == "w" else {}
        with os.fdopen(fd, mode, **text) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _permissions(target))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    sync_directory(target.parent)


def write(table: pa.Table, path: str | os.PathLike) -> None:
    """Write a pool to `path` atomically, the format chosen by its extension.

    .jsonl/.ndjson (one object per line), .json (one array), .csv/.tsv (header + rows; no nested
    fields), each optionally .gz, and .parquet. NaN in a float column is written as null in JSON.
    """
    writer = _WRITERS[check_writable(table.schema, path)]
    with atomic_write(path, "wb") as raw:
        if str(path).lower().endswith(".gz"):
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as packed:
                writer(table, packed)
        else:
            writer(table, raw)


def _write_jsonl(table: pa.Table, out: BinaryIO) -> None:
    out.writelines("".join(row + "\n" for row in rows).encode() for rows in _json_rows(table))


def _write_json(table: pa.Table, out: BinaryIO) -> None:
    sep = b"[\n"
    for rows in _json_rows(table):
        if rows:
            out.write(sep + ",\n".join(rows).encode())
            sep = b",\n"
    out.write(b"[]\n" if sep == b"[\n" else b"\n]\n")


def _write_csv(table: pa.Table, out: BinaryIO, delimiter: str = ",") -> None:
    pcsv.write_csv(table, out, write_options=pcsv.WriteOptions(delimiter=delimiter))


def _write_tsv(table: pa.Table, out: BinaryIO) -> None:
    _write_csv(table, out, "\t")


def _write_parquet(table: pa.Table, out: BinaryIO) -> None:
    pq.write_table(table, out)


_WRITERS: dict[str, Callable[[pa.Table, BinaryIO], None]] = {
    "jsonl": _write_jsonl, "json": _write_json, "csv": _write_csv, "tsv": _write_tsv,
    "parquet": _write_parquet,
}


def _json_rows(table: pa.Table) -> Iterator[list[str]]:
    """Each batch's rows as JSON texts; NaN in top-level float columns becomes null."""
    for batch in table.to_batches():
        columns = [pc.if_else(pc.is_nan(col), pa.scalar(None, col.type), col)
                   if pa.types.is_floating(col.type) else col for col in batch.columns]
        rows = pa.RecordBatch.from_arrays(columns, schema=batch.schema).to_pylist()
        yield [json.dumps(row, ensure_ascii=False, default=_json_default) for row in rows]


def _json_default(value: object) -> object:
    """JSON for the Python values arrow gives that json cannot write."""
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return str(value)


def check_writable(schema: pa.Schema, path: str | os.PathLike) -> str:
    """The format `path` names, checked against the rows' `schema` (CSV/TSV hold no nested fields).

    Commands call it before their work, so that a run never ends in an output it cannot write.
    """
    fmt = detect_format(path, writing=True)
    if fmt in ("csv", "tsv"):
        _check_flat(schema, path)
    return fmt


def _check_flat(schema: pa.Schema, path: str | os.PathLike) -> None:
    nested = [f.name for f in schema if pa.types.is_nested(f.type)]
    if nested:
        raise UsageError(f"{path}: CSV cannot hold the nested field(s) {', '.join(nested)} "
                         "(write .jsonl or .parquet, or drop those fields)")


def _permissions(target: Path) -> int:
    """The existing file's permission bits, else 0o666 less the process umask."""
    if target.exists():
        return stat.S_IMODE(target.stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def sync_directory(directory: Path) -> None:
    """fsync the directory so the rename itself survives a crash (POSIX only)."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
