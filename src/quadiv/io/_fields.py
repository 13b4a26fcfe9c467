"""Columns of a pool as texts, numbers or labels, with errors that name the file's line and the field."""
from __future__ import annotations

import re
import string
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from quadiv.errors import InputError, UsageError
from quadiv.io._formats import missing_field
from quadiv.io._lines import row_at

_MISSING_FIX = "drop those rows, fill them in, or for quality pass --quality-missing drop|min"


def render_texts(table: pa.Table, field: str, *, path: str | None = None) -> list[str]:
    """One text per row: the column `field`, or `field` as a str.format template over the columns.

    A template names columns in braces, "{instruction}\\n\\n{output}"; `{{` and `}}` are literal
    braces and format specs work ("{quality:.2f}"). Because shells pass `\\n` as two characters, the
    two characters backslash-n in a template become a newline (so a template cannot hold a literal
    backslash-n). A name that is a column is read as that column, even if it holds braces. Non-string
    values are converted with str(); a null value is an InputError naming the row and the field.
    """
    if field in table.column_names:
        return [_as_text(v) for v in _values(table, field, path)]
    template = field.replace("\\n", "\n")
    names = _template_names(template)
    if not names:
        if "{" not in field:
            raise missing_field(field, table.column_names, path)
        return [template.format()] * table.num_rows
    columns = [_values(table, name, path) for name in names]
    return [template.format_map(dict(zip(names, row, strict=True))) for row in zip(*columns, strict=True)]


def float_column(table: pa.Table, name: str, *, path: str | None = None,
                 allow_nan: bool = False) -> np.ndarray:
    """The column `name` as float64 (booleans as 0/1, numeric text parsed); nulls become NaN.

    NaN or null is an InputError naming the first such row unless `allow_nan`; infinities always are.
    """
    column = _column(table, name, path)
    dtype = column.type
    if pa.types.is_boolean(dtype) or pa.types.is_integer(dtype) or pa.types.is_floating(dtype) \
            or pa.types.is_decimal(dtype) or pa.types.is_null(dtype):
        values = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
    elif pa.types.is_string(dtype) or pa.types.is_large_string(dtype):
        values = _parse_floats(table, name, column.to_pylist(), path)
    else:
        first = next((i for i, v in enumerate(column.to_pylist()) if v is not None), 0)
        raise InputError(f"{row_label(table, first, path)}: field '{name}' holds {dtype}, expected numbers", path=path,
                         fix="choose a numeric field, or write one number per row")
    values = np.asarray(values, dtype=np.float64)
    infinite = np.flatnonzero(np.isinf(values))
    if infinite.size:
        raise InputError(f"{row_label(table, infinite[0], path)}: field '{name}' is {values[infinite[0]]}", path=path,
                         fix="use finite numbers")
    missing = np.flatnonzero(np.isnan(values))
    if missing.size and not allow_nan:
        raise InputError(f"{row_label(table, missing[0], path)}: field '{name}' is missing (null or NaN) in "
                         f"{missing.size} row(s)", path=path, fix=_MISSING_FIX)
    return values


def string_column(table: pa.Table, name: str, *, path: str | None = None) -> np.ndarray:
    """The column `name` as an object array of str (group labels); non-strings via str(), nulls are errors."""
    values = [_as_text(v) for v in _values(table, name, path)]
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def take(table: pa.Table, indices: Sequence[int] | np.ndarray) -> pa.Table:
    """The rows at `indices`, in that order, with the table's schema; UsageError for an index out of range."""
    idx = np.asarray(indices)
    if idx.size == 0:
        idx = idx.astype(np.int64)
    if idx.ndim != 1 or not np.issubdtype(idx.dtype, np.integer):
        raise UsageError(f"indices must be a 1-D sequence of integers, got shape {idx.shape} of {idx.dtype}")
    bad = np.flatnonzero((idx < 0) | (idx >= table.num_rows))
    if bad.size:
        raise UsageError(f"index {int(idx[bad[0]])} is out of range for a pool of {table.num_rows} rows")
    return table.take(pa.array(idx, pa.int64()))


def _template_names(template: str) -> list[str]:
    """The distinct column names a template uses, in order of first use."""
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as err:
        raise UsageError(f"bad field template {template!r}: {err}; "
                         "write {{ and }} for literal braces") from None
    names = [re.match(r"[^.\[]*", name).group() for name in fields]
    if any(not name or name.isdigit() for name in names):
        raise UsageError(f"bad field template {template!r}: name each field, e.g. {{instruction}}")
    return list(dict.fromkeys(names))


def _column(table: pa.Table, name: str, path: str | None) -> pa.ChunkedArray:
    if name not in table.column_names:
        raise missing_field(name, table.column_names, path)
    return table[name]


def _values(table: pa.Table, name: str, path: str | None) -> list:
    """The column's Python values; a null is an InputError naming the first such row."""
    column = _column(table, name, path)
    if column.null_count:
        first = np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))[0]
        raise InputError(f"{row_label(table, first, path)}: field '{name}' is empty (null) in {column.null_count} "
                         "row(s)", path=path, fix="fill it in or drop those rows")
    return column.to_pylist()


def _parse_floats(table: pa.Table, name: str, values: list, path: str | None) -> list[float]:
    """Numbers written as text; the first text that is not a number is an InputError naming its row."""
    out = []
    for i, value in enumerate(values):
        try:
            out.append(float("nan") if value is None else float(value))
        except ValueError:
            raise InputError(f"{row_label(table, i, path)}: field '{name}' is {value!r}, not a number", path=path,
                             fix="make the field numeric or choose another field") from None
    return out


def row_label(table: pa.Table, index: int, path: str | None = None) -> str:
    """Where row `index` is ('row N', N its line in a JSON Lines file, see `row_at`), plus its own id.

    The id is left out when it is just the 0-based row number that the reader gave a file without ids.
    """
    label = row_at(path, index)
    if "id" in table.column_names:
        value = table["id"][int(index)].as_py()
        if value != int(index):
            label += f" (id {value!r})"
    return label


def _as_text(value: object) -> str:
    return value if isinstance(value, str) else str(value)
