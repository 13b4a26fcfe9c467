"""Where a record sits in its file, as "row N": for JSON Lines N is the physical line, else the record number.

Readers number records 0, 1, 2, ... in file order; messages that name a file number them as the user finds
them: in a JSON Lines file by the physical line (blank lines count), in a CSV/TSV file by the data row
(1-based, the header not counted, as in "row 3" for the third record), elsewhere by the 1-based record
number. The file is re-read only to build a message.
"""
from __future__ import annotations

import os

from quadiv.errors import InputError
from quadiv.io._formats import detect_format, open_binary
from quadiv.io._jsonl import is_json_lines

_BOM = b"\xef\xbb\xbf"


def row_at(path: str | os.PathLike | None, index: int) -> str:
    """'row N' for the record at 0-based `index`: N is its line in a JSON Lines file, else index + 1."""
    line = None
    if path is not None and os.path.isfile(path):
        try:
            line = _jsonl_line(str(path), int(index))
        except (InputError, OSError, EOFError, ValueError):
            line = None
    return f"row {line if line is not None else int(index) + 1}"


def _jsonl_line(path: str, index: int) -> int | None:
    """The physical line of the `index`-th non-blank line of a JSON Lines file; None for other formats."""
    fmt = detect_format(path)
    if not (fmt == "jsonl" or (fmt == "json" and is_json_lines(path))):
        return None
    seen = -1
    with open_binary(path) as handle:
        for number, raw in enumerate(handle, 1):
            if raw.lstrip(_BOM if number == 1 else b"").strip():
                seen += 1
                if seen == index:
                    return number
    return None
