"""Where a record sits in its file, as "row N" with N the file's own 1-based line where one exists.

Readers number records 0, 1, 2, ... in file order; messages that name a file name the row a user finds
in an editor or a spreadsheet instead: for JSON Lines the physical line (blank lines count), for
CSV/TSV the line on which the data row starts (the header is row 1, as a spreadsheet shows it), for
other formats the 1-based record number. The file is re-read only to build a message.
"""
from __future__ import annotations

import csv
import io
import os

from quadiv.errors import InputError
from quadiv.io._formats import detect_format, open_binary
from quadiv.io._jsonl import is_json_lines

_BOM = b"\xef\xbb\xbf"


def row_at(path: str | os.PathLike | None, index: int) -> str:
    """'row N' for the record at 0-based `index`: N is its line in a JSONL/CSV/TSV file, else index + 1."""
    line = None
    if path is not None and os.path.isfile(path):
        try:
            line = _record_line(str(path), int(index))
        except (InputError, OSError, EOFError, ValueError, csv.Error):
            line = None
    return f"row {line if line is not None else int(index) + 1}"


def _record_line(path: str, index: int) -> int | None:
    """The line on which record `index` starts, or None when the format has no lines or it is not found."""
    fmt = detect_format(path)
    if fmt in ("csv", "tsv"):
        return _csv_line(path, "," if fmt == "csv" else "\t", index)
    if fmt == "jsonl" or (fmt == "json" and is_json_lines(path)):
        return _jsonl_line(path, index)
    return None


def _jsonl_line(path: str, index: int) -> int | None:
    """The physical line of the `index`-th non-blank line (blank lines hold no record)."""
    seen = -1
    with open_binary(path) as handle:
        for number, raw in enumerate(handle, 1):
            if raw.lstrip(_BOM if number == 1 else b"").strip():
                seen += 1
                if seen == index:
                    return number
    return None


def _csv_line(path: str, delimiter: str, index: int) -> int | None:
    """The line on which data row `index` starts (after the header; empty lines hold no row)."""
    with io.TextIOWrapper(open_binary(path), encoding="utf-8-sig", newline="") as text:
        reader = csv.reader(text, delimiter=delimiter)
        seen, start = -2, 1
        for row in reader:
            if row:
                seen += 1
                if seen == index:
                    return start
            start = reader.line_num + 1
    return None
