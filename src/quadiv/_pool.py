"""A pool: the rows of one input file plus the text field that gets embedded and scored."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pyarrow as pa

from quadiv import io
from quadiv.errors import InputError

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
                f"(fields: {', '.join(self.table.column_names)})", path=self.path, fix="pass --field NAME")
        return io.render_texts(self.table, self.field, path=self.path)

    def floats(self, name: str, *, allow_nan: bool = False) -> np.ndarray:
        """A numeric column as float64, with file/row errors for missing or NaN values."""
        return io.float_column(self.table, name, path=self.path, allow_nan=allow_nan)

    def labels(self, name: str) -> np.ndarray:
        """A label column (group, domain, input id) as strings."""
        return io.string_column(self.table, name, path=self.path)

    def take(self, indices: np.ndarray) -> pa.Table:
        return io.take(self.table, indices)


def read(path: str, field: str | None = None, *, columns: list[str] | None = None) -> Pool:
    """Read a pool; ``field`` is a column or a template like ``"{instruction}\\n\\n{output}"``.

    With no ``field``, the first of text/output/response/completion/generation/content/solution/answer that the
    file has is used.
    """
    table = io.read(path, columns=columns)
    if table.num_rows == 0:
        raise InputError("the file has no rows", path=path, fix="point quadiv at a file with data")
    return Pool(table, str(path), field if field is not None else guess_field(table, str(path)))


def guess_field(table: pa.Table, path: str) -> str | None:
    """The first conventional text column name that the table has, else None."""
    for name in TEXT_FIELD_GUESSES:
        if name in table.column_names:
            return name
    return None
