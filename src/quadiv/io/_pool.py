"""A pool: the rows of one input file plus the text field that gets embedded and scored."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pyarrow as pa

from quadiv.errors import InputError, UsageError
from quadiv.io._fields import float_column, render_texts, string_column, take
from quadiv.io._read import read as read_table

TEXT_FIELD_GUESSES = ("text", "output", "response", "completion", "generation", "content", "solution", "answer")


@dataclass
class Pool:
    """An input table (``id`` + the user's fields) and where it came from."""

    table: pa.Table
    path: str
    field: str | None = None

    def __len__(self) -> int:
        return self.table.num_rows

    @cached_property
    def texts(self) -> list[str]:
        """The rendered text of every row (the field or the template)."""
        if self.field is None:
            raise InputError(
                f"no text field given and none of {', '.join(TEXT_FIELD_GUESSES)} exists "
                f"(fields: {', '.join(self.table.column_names)})", path=self.path, fix="name the text column with `field`")
        return render_texts(self.table, self.field, path=self.path)

    def floats(self, name: str, *, allow_nan: bool = False) -> np.ndarray:
        """A numeric column as float64, with file/row errors for missing or NaN values."""
        return float_column(self.table, name, path=self.path, allow_nan=allow_nan)

    def labels(self, name: str) -> np.ndarray:
        """A label column (group, domain, input id) as strings."""
        return string_column(self.table, name, path=self.path)

    def take(self, indices: np.ndarray) -> pa.Table:
        return take(self.table, indices)


def read_pool(path: str, field: str | None = None, *, columns: list[str] | None = None) -> Pool:
    """Read a pool; ``field`` is a column or a template like ``"{instruction}\\n\\n{output}"``.

    With no ``field``, the first of text/output/response/completion/generation/content/solution/answer that the
    file has is used.
    """
    table = read_table(path, columns=columns)
    if table.num_rows == 0:
        raise InputError("the file has no rows", path=path, fix="point quadiv at a file with data")
    return Pool(table, str(path), field if field is not None else guess_field(table, str(path)))


def guess_field(table: pa.Table, path: str) -> str | None:
    """The first conventional text column name that the table has, else None."""
    for name in TEXT_FIELD_GUESSES:
        if name in table.column_names:
            return name
    return None


QUALITY_MISSING = ("error", "drop", "min")


def pool_quality(pool: Pool, X: np.ndarray | None, quality_field: str | None, missing: str = "error", *,
                 higher_is_better: bool = True) -> tuple[Pool, np.ndarray | None, np.ndarray | None]:
    """(pool, X, quality) with quality as float64, higher = better, under a policy for missing or NaN values.

    ``missing`` is ``"error"`` (a missing value is an InputError naming its row), ``"drop"`` (the rows
    without a score leave the pool and X) or ``"min"`` (they get the worst known score). A column where
    lower is better (``higher_is_better=False``, say a perplexity) comes back negated. Without a
    ``quality_field`` the pool and X come back unchanged, with quality None.
    """
    if missing not in QUALITY_MISSING:
        raise UsageError(f"`quality_missing` must be error, drop or min, got '{missing}'")
    if quality_field is None:
        return pool, X, None
    sign = 1.0 if higher_is_better else -1.0
    if missing == "error":
        return pool, X, sign * pool.floats(quality_field)
    quality = sign * pool.floats(quality_field, allow_nan=True)
    known = ~np.isnan(quality)
    if not known.any():
        raise UsageError(f"{pool.path}: every '{quality_field}' value is missing; nothing to score")
    if missing == "min":
        return pool, X, np.where(known, quality, quality[known].min())
    keep = np.flatnonzero(known)
    return Pool(pool.take(keep), pool.path, pool.field), np.asarray(X[keep]), quality[keep]
