"""JSON Lines and JSON readers: pyarrow parses, Python pinpoints the bad line on failure.

A JSON Lines file is parsed 16 MiB of whole lines at a time with `pyarrow.json.read_json`, so memory
stays bounded. (`pyarrow.json.open_json` also streams, but it fixes every type from the first block
and fails when a field that was null there holds strings later, which real files do.) Types widen
across chunks the way `read_json` widens them inside one (null -> string, int -> double, new fields).
Strings that look like dates stay strings: JSON has no timestamps.
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator

import pyarrow as pa
import pyarrow.json as pj

from quadiv.errors import InputError
from quadiv.io._formats import first_line, open_arrow, open_binary

_CHUNK_BYTES = 1 << 24
_BLOCK_BYTES = 1 << 20
_BOM = b"\xef\xbb\xbf"
_TEXT = re.compile(rb"\S")


def iter_jsonl_tables(path: str) -> Iterator[pa.Table]:
    """Yield one table per chunk of whole lines; a later table's schema only widens the earlier ones'."""
    schema: pa.Schema | None = None
    as_string: dict[str, pa.DataType] = {}
    for start, chunk in _chunks(path, _CHUNK_BYTES):
        _check_utf8(chunk, start, path)
        table = _parse_chunk(chunk, start, path, as_string)
        if schema is not None:
            table = _conform(table, schema, chunk, start, path)
        schema = table.schema
        yield table


def _check_utf8(chunk: memoryview, start: int, path: str) -> None:
    """InputError naming the line of the first byte that is not UTF-8 (pyarrow would keep it silently)."""
    try:
        str(chunk, "utf-8")
    except UnicodeDecodeError as err:
        line = start + chunk[:err.start].tobytes().count(b"\n")
        raise InputError(f"line {line}: not UTF-8 text ({err.reason})", path=path,
                         fix="save the file as UTF-8, or fix that line") from None


def is_json_lines(path: str) -> bool:
    """Whether a `.json` file holds one object per line (as `Dataset.to_json` writes), not one value."""
    with open_binary(path) as handle:
        lines = (line for line in handle if line.strip())
        head = next(lines, b"").lstrip(_BOM).strip()
        if not head.startswith(b"{"):
            return not head
        try:
            record = json.loads(head)
        except ValueError:
            return False
        return next(lines, None) is not None or not _wrapped_rows(record)


def read_json_document(path: str) -> pa.Table:
    """Read a JSON file holding a list of objects, or an object whose "data" key holds that list."""
    with open_binary(path) as handle:
        raw = handle.read()
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise InputError(f"line {line}: not UTF-8 text ({err.reason})", path=path,
                         fix="save the file as UTF-8 JSON") from None
    except json.JSONDecodeError as err:
        raise InputError(f"line {err.lineno}: invalid JSON ({err.msg}, column {err.colno})", path=path,
                         fix="fix the JSON syntax there") from None
    rows = doc if isinstance(doc, list) else _wrapped_rows(doc)
    if rows is None:
        keys = _record_keys(doc) if isinstance(doc, dict) else []
        held = f" whose {', '.join(map(repr, keys))} holds records" if keys else ""
        raise InputError(f"expected a list of objects or {{\"data\": [...]}}, got {_kind(doc)}{held}", path=path,
                         fix="write a top-level JSON array of records, or put them under \"data\"")
    records = [(f"item {i}", row) for i, row in enumerate(rows, 1)]
    problem = _first_problem(records, {})
    if problem is not None:
        raise InputError(problem[0], path=path, fix=problem[1])
    try:
        return pa.Table.from_pylist(rows)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as err:
        raise InputError(f"cannot convert to a table ({first_line(err)})", path=path,
                         fix="give each field the same type in every record") from None


def _wrapped_rows(doc: object) -> list | None:
    """The record list of {"data": [...]}, or None when `doc` is not of that shape."""
    rows = doc.get("data") if isinstance(doc, dict) else None
    return rows if isinstance(rows, list) else None


def _record_keys(doc: dict) -> list[str]:
    """The keys of an object that hold a list of objects (records wrapped under a name other than "data")."""
    return [key for key, value in doc.items()
            if isinstance(value, list) and value and all(isinstance(v, dict) for v in value)]


def _chunks(path: str, chunk_bytes: int) -> Iterator[tuple[int, memoryview]]:
    """Yield (number of the chunk's first line, its whole lines) as views into one reused buffer.

    A view is valid until the next one is asked for (pyarrow copies what it parses). The buffer grows
    when one line is longer than it; a UTF-8 byte-order mark at the start is dropped.
    """
    buffer, held, line = bytearray(chunk_bytes), 0, 1
    with open_arrow(path) as stream:
        end = _fill(stream, memoryview(buffer))
        if buffer.startswith(_BOM):
            buffer[:end - len(_BOM)] = buffer[len(_BOM):end]
            end -= len(_BOM)
            end += _fill(stream, memoryview(buffer)[end:])
        while end:
            eof = end < len(buffer)
            cut = end if eof else buffer.rfind(b"\n", 0, end) + 1
            if cut == 0:
                buffer = buffer + bytes(len(buffer))
            else:
                if _TEXT.search(buffer, 0, cut):
                    yield line, memoryview(buffer)[:cut]
                line += buffer.count(b"\n", 0, cut)
                buffer[:end - cut] = buffer[cut:end]
            held = end - cut
            end = held + (0 if eof else _fill(stream, memoryview(buffer)[held:]))


def _fill(stream: pa.NativeFile, view: memoryview) -> int:
    """Read into `view` until it is full or the stream ends; the number of bytes read."""
    total = 0
    while total < len(view):
        got = stream.readinto(view[total:])
        if not got:
            break
        total += got
    return total


def _parse_chunk(chunk: memoryview, start: int, path: str, as_string: dict[str, pa.DataType]) -> pa.Table:
    """Parse one chunk; fields inferred as timestamps are re-read as the strings they are."""
    options = pj.ParseOptions(explicit_schema=pa.schema(as_string) if as_string else None,
                              unexpected_field_behavior="infer")
    block = _BLOCK_BYTES
    while True:
        try:
            table = pj.read_json(pa.BufferReader(pa.py_buffer(chunk)), parse_options=options,
                                 read_options=pj.ReadOptions(block_size=block))
            break
        except pa.ArrowInvalid as err:
            if "straddl" not in str(err) or block > len(chunk):
                raise _diagnose(chunk, start, path, {}, err) from None
            block = len(chunk) + 1
    if not _lists_valid(table):
        return _parse_in_python(chunk, start, path)
    stamps = {f.name: pa.string() for f in table.schema if pa.types.is_timestamp(f.type)}
    if not stamps:
        return table
    as_string.update(stamps)
    return _parse_chunk(chunk, start, path, as_string)


def _lists_valid(table: pa.Table) -> bool:
    """Whether every nested column (lists, structs) is a valid array: pyarrow 26's JSON reader builds list
    offsets past the values for a list that starts with null and goes on (``[null, null]``, ``[null, "x"]``),
    whose values then read out of bounds or as garbage (apache/arrow#51305, open; 25.0 and 26.0.1)."""
    try:
        for column in table.columns:
            if pa.types.is_nested(column.type):
                column.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _parse_in_python(chunk: memoryview, start: int, path: str) -> pa.Table:
    """The chunk's records parsed by Python's json and converted by ``Table.from_pylist`` (slower; for the
    chunks pyarrow's reader gets wrong)."""
    records = list(_numbered_records(chunk.tobytes(), start))
    problem = _first_problem(records, {})
    if problem is not None:
        raise InputError(problem[0], path=path, fix=problem[1])
    try:
        return pa.Table.from_pylist([row for _, row in records])
    except (pa.ArrowInvalid, pa.ArrowTypeError) as err:
        raise _diagnose(chunk, start, path, {}, err) from None


def _conform(table: pa.Table, schema: pa.Schema, chunk: memoryview, start: int, path: str) -> pa.Table:
    """Cast a chunk's table to the schema unified with the earlier chunks'; missing fields become null."""
    try:
        unified = pa.unify_schemas([schema, table.schema], promote_options="permissive")
        columns = [table[f.name].cast(f.type) if f.name in table.column_names
                   else pa.nulls(table.num_rows, f.type) for f in unified]
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as err:
        kinds = {f.name: _arrow_kind(f.type) for f in schema if _arrow_kind(f.type)}
        raise _diagnose(chunk, start, path, kinds, err) from None
    return pa.Table.from_arrays(columns, schema=unified)


def _diagnose(view: memoryview, start: int, path: str, kinds: dict[str, str], err: Exception) -> InputError:
    """Re-read a chunk that pyarrow rejected with Python's json to name the first bad line."""
    chunk = view.tobytes()
    problem = _first_problem(_numbered_records(chunk, start), kinds)
    if problem is None:
        end = start + chunk.rstrip(b"\n").count(b"\n")
        return InputError(f"lines {start}-{end}: {first_line(err)}", path=path,
                          fix="check that every line is one JSON object with consistent field types")
    return InputError(problem[0], path=path, fix=problem[1])


def _numbered_records(chunk: bytes, start: int) -> Iterator[tuple[str, object]]:
    """Yield ("line N", parsed value) for each non-blank line; a line that is not JSON yields `_Invalid`."""
    for number, raw in enumerate(chunk.split(b"\n"), start):
        if raw.strip():
            try:
                yield f"line {number}", json.loads(raw)
            except json.JSONDecodeError as err:
                yield f"line {number}", _Invalid(f"{err.msg}, column {err.colno}")
            except UnicodeDecodeError:
                yield f"line {number}", _Invalid("not UTF-8 text")


class _Invalid:
    """A line that Python's json could not parse, with the reason."""

    def __init__(self, reason: str):
        self.reason = reason


def _first_problem(records: Iterable[tuple[str, object]], kinds: dict[str, str]) -> tuple[str, str] | None:
    """The (message, fix) for the first record that is not JSON, not an object, or changes a field's type."""
    for label, record in records:
        if isinstance(record, _Invalid):
            return f"{label}: invalid JSON ({record.reason})", "fix or remove that line"
        if not isinstance(record, dict):
            got = f"{label}: expected a JSON object, got {_kind(record)}"
            return got, "write one {...} object per record"
        for key, value in record.items():
            if isinstance(value, float) and not math.isfinite(value):
                return (f"{label}: field '{key}' holds {value}, which is not a JSON number",
                        "write a finite number, or null for a missing value")
            kind = _kind(value)
            seen = kinds.setdefault(key, kind) if kind else None
            if seen is not None and seen != kind:
                return (f"{label}: field '{key}' is {kind} here but {seen} in earlier records",
                        f"give '{key}' the same type in every record")
    return None


def _kind(value: object) -> str | None:
    """The JSON kind of a Python value, for messages; None for null."""
    if value is None:
        return None
    for kind, types in (("a boolean", bool), ("a number", (int, float)), ("a string", str),
                        ("an array", list), ("an object", dict)):
        if isinstance(value, types):
            return kind
    return type(value).__name__


def _arrow_kind(dtype: pa.DataType) -> str | None:
    """The JSON kind that an inferred arrow type came from; None for null."""
    checks = ((pa.types.is_boolean, "a boolean"), (pa.types.is_integer, "a number"),
              (pa.types.is_floating, "a number"), (pa.types.is_string, "a string"),
              (pa.types.is_large_string, "a string"), (pa.types.is_list, "an array"),
              (pa.types.is_struct, "an object"))
    return next((kind for check, kind in checks if check(dtype)), None)
