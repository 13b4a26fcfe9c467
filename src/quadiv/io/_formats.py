"""File-type detection by name, and the helpers every reader shares."""
from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa

from quadiv.errors import InputError, UsageError

_EXTENSIONS = {
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json",
    ".csv": "csv", ".tsv": "tsv", ".parquet": "parquet",
}
_GZIP_OK = {"jsonl", "json", "csv", "tsv"}
KNOWN = ".jsonl, .ndjson, .json, .csv, .tsv (each optionally .gz) or .parquet"


def detect_format(path: str | os.PathLike, *, writing: bool = False) -> str:
    """Name the format of `path` from its extension: jsonl, json, csv, tsv or parquet."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    gz = suffixes[-1:] == [".gz"]
    fmt = _EXTENSIONS.get(suffixes[-2] if gz and len(suffixes) > 1 else "".join(suffixes[-1:]))
    if fmt is not None and (fmt in _GZIP_OK or not gz):
        return fmt
    message = f"unknown file type '{''.join(suffixes[-2:]) or Path(path).name}'"
    if writing:
        raise UsageError(f"{path}: {message} (write {KNOWN})")
    raise InputError(message, path=str(path), fix=f"use {KNOWN}, or a saved Hugging Face dataset directory")


def existing(path: str | os.PathLike) -> str:
    """Return `path` as a string; InputError if nothing is there."""
    if not os.path.exists(path):
        raise InputError("file not found", path=str(path), fix="check the path and the working directory")
    return str(path)


def open_binary(path: str) -> BinaryIO:
    """Open a file for reading bytes, decompressing `.gz` transparently."""
    return gzip.open(path, "rb") if path.lower().endswith(".gz") else open(path, "rb")


def open_arrow(path: str) -> pa.NativeFile:
    """Open a file as a pyarrow input stream (decompressing `.gz` in C++)."""
    return pa.input_stream(path)


@contextmanager
def reading(path: str) -> Iterator[None]:
    """Turn an unreadable or damaged file (I/O error, broken gzip, stray bytes) into an InputError naming it."""
    try:
        yield
    except UnicodeDecodeError as err:
        raise InputError(f"not UTF-8 text ({err.reason} at byte {err.start})", path=path,
                         fix="save the file as UTF-8") from None
    except (OSError, EOFError, zlib.error) as err:
        raise unreadable(path, err) from None


def unreadable(path: str, err: BaseException) -> InputError:
    """The error for a file that cannot be read or decompressed to the end."""
    if path.lower().endswith(".gz"):
        return InputError(f"not a complete gzip file ({first_line(str(err))})", path=path,
                          fix="compress it again with gzip, or drop '.gz' from the name if it is not compressed")
    return InputError(f"cannot read the file ({first_line(str(err))})", path=path,
                      fix="check that the file is complete and readable")


def missing_field(name: str, available: list[str], path: str | None) -> InputError:
    """The error for a field that the data lacks; lists the fields it has."""
    return InputError(f"field '{name}' not found; available fields: {', '.join(available) or '(none)'}",
                      path=path, fix="pick one of the available fields")


def no_rows(path: str) -> InputError:
    """The error for an input without a single record."""
    return InputError("no rows", path=path, fix="the file holds no records; pass a file with at least one")


def first_line(message: str) -> str:
    """The first line of a library error message, for one-line errors."""
    return str(message).strip().splitlines()[0] if str(message).strip() else "unknown error"
