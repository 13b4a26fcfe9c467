"""CSV and TSV readers on pyarrow.csv; on a parse failure Python's csv module names the bad line.

Quoted fields may span lines (`newlines_in_values=True`). `read_csv` infers each column's type from
the whole file; the streaming `open_csv` fixes the types from the first 16 MiB, so a column that turns
from numbers to text later in the file is an error there (read the file whole with `read` instead).
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.csv as pc

from quadiv.errors import InputError
from quadiv.io._formats import first_line, no_rows, open_binary

_BLOCK_BYTES = 1 << 24
_CONVERSION = re.compile(r"CSV column #(\d+): (CSV conversion error.*)")
_QUOTE_FIX = "quote fields that contain the delimiter, and write a quote inside a quoted field as \"\""


def csv_fields(path: str, delimiter: str) -> list[str]:
    """The header's field names; InputError when the file is empty or not text."""
    try:
        with io.TextIOWrapper(open_binary(path), encoding="utf-8-sig", newline="") as text:
            header = next(csv.reader(text, delimiter=delimiter), None)
    except UnicodeDecodeError:
        raise _diagnose(path, delimiter, "not UTF-8") from None
    if not header:
        raise no_rows(path)
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise InputError(f"line 1: the header names {', '.join(map(repr, repeated))} more than once", path=path,
                         fix="give every column its own name")
    return header


def read_csv_table(path: str, delimiter: str, columns: list[str] | None) -> pa.Table:
    """Read the whole file, types inferred over every row; only `columns` (already checked) when given."""
    try:
        table = pc.read_csv(path, parse_options=_parse_options(delimiter),
                            convert_options=pc.ConvertOptions(include_columns=columns or []))
    except pa.ArrowInvalid as err:
        raise _diagnose(path, delimiter, err) from None
    if table.num_rows == 0:
        raise _header_only(path)
    return table


def iter_csv_tables(path: str, delimiter: str, columns: list[str] | None) -> Iterator[pa.Table]:
    """Stream the file in 16 MiB blocks; columns that are empty in the first block are read as text."""
    convert = pc.ConvertOptions(include_columns=columns or [])
    try:
        reader = _open(path, delimiter, convert)
        empty = {f.name: pa.string() for f in reader.schema if pa.types.is_null(f.type)}
        if empty:
            convert.column_types = empty
            reader = _open(path, delimiter, convert)
        rows = 0
        for batch in reader:
            rows += batch.num_rows
            yield pa.Table.from_batches([batch])
    except pa.ArrowInvalid as err:
        raise _diagnose(path, delimiter, err) from None
    if rows == 0:
        raise _header_only(path)


def _header_only(path: str) -> InputError:
    return InputError("no rows: line 1 is the header and no data row follows", path=path,
                      fix="add data rows under the header, or pass a file with data")


def _open(path: str, delimiter: str, convert: pc.ConvertOptions) -> pc.CSVStreamingReader:
    return pc.open_csv(path, read_options=pc.ReadOptions(block_size=_BLOCK_BYTES),
                       parse_options=_parse_options(delimiter), convert_options=convert)


def _parse_options(delimiter: str) -> pc.ParseOptions:
    return pc.ParseOptions(delimiter=delimiter, newlines_in_values=True)


def _diagnose(path: str, delimiter: str, err: Exception | str) -> InputError:
    """Re-read a file that pyarrow rejected with Python's csv module to name the first bad line."""
    if "Empty CSV file" in str(err):
        return no_rows(path)
    with open_binary(path) as raw:
        for number, line in enumerate(raw, 1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return InputError(f"line {number}: not UTF-8 text; is this a CSV file?", path=path,
                                  fix="save it as UTF-8 CSV, or name it by its real type")
    problem = _first_bad_row(path, delimiter)
    if problem is not None:
        return InputError(problem, path=path, fix=_QUOTE_FIX)
    converting = _CONVERSION.search(first_line(err))
    if converting:
        field = csv_fields(path, delimiter)[int(converting[1])]
        return InputError(f"field '{field}': {converting[2]} (streaming takes each field's type from the first "
                          "16 MiB)", path=path, fix="give the field one type throughout, or read the file whole")
    return InputError(f"cannot read as CSV ({first_line(err)})", path=path, fix=_QUOTE_FIX)


def _first_bad_row(path: str, delimiter: str) -> str | None:
    """Where the first row with the wrong number of fields, or broken quoting, starts."""
    with io.TextIOWrapper(open_binary(path), encoding="utf-8-sig", newline="") as text:
        reader = csv.reader(text, delimiter=delimiter, strict=True)
        start = 1
        try:
            width = len(next(reader))
            start = reader.line_num + 1
            for row in reader:
                if row and len(row) != width:
                    return f"line {start}: expected {width} fields like the header, got {len(row)}"
                start = reader.line_num + 1
        except csv.Error as err:
            if reader.line_num > start:
                return f"line {start}: a quoted field that opens here is not closed ({err})"
            return f"line {start}: {err}"
    return None
