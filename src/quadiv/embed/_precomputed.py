"""Embeddings the user already has: a ``.npy`` file or a list-of-floats column of the pool."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from quadiv.embed._base import normalize_rows
from quadiv.embed._shards import assembled_shards
from quadiv.errors import InputError, UsageError

_NORM_TOL = 1e-3
_CHECK_ROWS = 10_000
_BLOCK = 65_536


def load_embeddings(
    path: str | os.PathLike,
    n_expected: int | None = None,
    *,
    mmap: bool = True,
    normalize: bool = False,
    check: bool = True,
    texts: Sequence[str] | None = None,
) -> np.ndarray:
    """Load an (n, d) embedding matrix from a ``.npy`` file, memory-mapped by default, or from a directory
    written by ``quadiv embed`` (:func:`quadiv.embed.assembled_shards`: complete, and with ``texts``, each row's
    text the one embedded; its rows are memory-mapped from the ``_embeddings.npy`` assembled there).

    Normalisation choice: the file is returned as it is (a read-only memmap, nothing copied), after a
    check that up to 10,000 evenly spaced rows have unit L2 norm (or are zero); a file that fails it is
    an InputError unless ``normalize=True``, which builds a normalised float32 copy in RAM block by
    block (x_i / ||x_i||), or ``check=False``, which trusts the file. Integer and other float files are
    converted to a float32 copy; anything but a numeric 2-D array is an InputError naming the file.
    """
    path = Path(path)
    if path.is_dir():
        path = assembled_shards(path, n_expected, texts)
    if path.suffix.lower() != ".npy":
        raise InputError(
            f"expected a .npy file, got '{path.suffix or 'no suffix'}'",
            path=str(path),
            fix="save the matrix with numpy.save(path, X)",
        )
    X = _load(path, mmap)
    expected = f"({n_expected}, d)" if n_expected is not None else "(n, d)"
    if X.ndim != 2 or (n_expected is not None and X.shape[0] != n_expected):
        raise InputError(
            f"expected an array of shape {expected}, one row per item, got shape {X.shape}",
            path=str(path),
            fix="embed the same rows, in the same order, as the input",
        )
    if not (np.issubdtype(X.dtype, np.floating) or np.issubdtype(X.dtype, np.integer)):
        raise InputError(
            f"expected numbers (float32 embeddings) of shape {expected}, got dtype {X.dtype}",
            path=str(path),
            fix="save a numeric matrix: numpy.save(path, X.astype('float32'))",
        )
    if normalize:
        return _normalised_copy(X, str(path))
    if X.dtype != np.float32:
        X = X.astype(np.float32)
    if check:
        _check_unit_rows(X, str(path))
    return X


def _load(path: Path, mmap: bool) -> np.ndarray:
    """The array in a .npy file; anything else (an .npz, a pickle, a damaged file) is an InputError."""
    fix = "save the matrix with numpy.save(path, X)"
    try:
        X = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (OSError, ValueError, EOFError) as err:
        python = "pickle" in str(err) or "Python objects" in str(err)
        reason = "it holds Python objects, not numbers" if python else str(err).strip().splitlines()[0]
        raise InputError(f"cannot read as a numeric .npy array ({reason})", path=str(path), fix=fix) from None
    if not isinstance(X, np.ndarray):
        X.close()
        raise InputError("an .npz archive, not a .npy array", path=str(path),
                         fix="save one matrix with numpy.save(path, X), or extract it from the archive")
    return X


def _normalised_copy(X: np.ndarray, source: str) -> np.ndarray:
    """A float32 copy with unit rows, x_i / ||x_i||, built block by block; non-finite rows are errors."""
    out = np.empty(X.shape, dtype=np.float32)
    for lo in range(0, X.shape[0], _BLOCK):
        block = np.asarray(X[lo : lo + _BLOCK], dtype=np.float32)
        finite = np.isfinite(block).all(axis=1)
        if not finite.all():
            raise _non_finite(source, lo + np.flatnonzero(~finite), "")
        out[lo : lo + _BLOCK] = normalize_rows(block.copy())
    return out


def _non_finite(source: str, rows: np.ndarray, sampled: str) -> InputError:
    """The error for rows (0-based) that hold NaN or infinity: the first few, 1-based, and the fix."""
    return InputError(
        f"{_rows(rows)}{sampled}: NaN or infinite values",
        path=source,
        fix="recompute the embeddings of those rows, or drop the rows from both the input and the .npy",
    )


def _rows(rows: np.ndarray) -> str:
    """'row 3' or 'rows 3, 8, 9 and 4 more' for 0-based indices, numbered from 1 like the input's rows."""
    shown = ", ".join(str(int(r) + 1) for r in rows[:5])
    more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
    return f"row{'s' if len(rows) > 1 else ''} {shown}{more}"


def _check_unit_rows(X: np.ndarray, source: str) -> None:
    rows = np.unique(np.linspace(0, X.shape[0] - 1, min(X.shape[0], _CHECK_ROWS)).astype(np.int64))
    sample = np.asarray(X[rows], dtype=np.float64)
    norms = np.sqrt((sample**2).sum(axis=1))
    sampled = f" (of {len(rows):,} evenly spaced rows checked)" if len(rows) < X.shape[0] else ""
    if not np.isfinite(norms).all():
        raise _non_finite(source, rows[~np.isfinite(norms)], sampled)
    bad = (np.abs(norms - 1) > _NORM_TOL) & (norms != 0)
    if bad.any():
        raise InputError(
            f"{_rows(rows[bad])}{sampled}: L2 norm {norms[bad][0]:.4g} (first), expected unit rows (cosine geometry)",
            path=source,
            fix="save the rows divided by their norms, X / numpy.linalg.norm(X, axis=1, keepdims=True) "
            "(from Python: load_embeddings(..., normalize=True), or check=False to use it as is)",
        )


def embeddings_from_column(table, field: str, *, normalize: bool = True, path: str | None = None) -> np.ndarray:
    """Read a list-of-floats column of a pyarrow table as an (n, d) float32 matrix, rows L2-normalised.

    Every row must hold the same number d >= 1 of finite numbers; errors name the first bad row (its line
    in the file at `path`, and its id), as :func:`quadiv.io.row_label` does.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    from quadiv.io import row_label

    if field not in table.column_names:
        raise UsageError(f"no column '{field}' in the data; columns are: {', '.join(table.column_names)}")
    column = table.column(field).combine_chunks()
    kind = column.type
    if not (pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind)):
        raise InputError(
            f"column '{field}' must hold lists of floats (one embedding per row), got {kind}", path=path,
            fix="write each row's embedding as a list of numbers, or pass `embeddings` FILE.npy",
        )
    if column.null_count:
        _fail(table, field, int(np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))[0]), path,
              "is empty (null)")
    value = kind.value_type
    if not (pa.types.is_integer(value) or pa.types.is_floating(value) or pa.types.is_null(value)):
        _fail(table, field, 0, path, f"holds lists of {value}, not numbers")
    lengths = pc.list_value_length(column).to_numpy(zero_copy_only=False)
    if len(lengths) and (lengths != lengths[0]).any():
        row = int(np.flatnonzero(lengths != lengths[0])[0])
        _fail(table, field, row, path, f"has {lengths[row]} values but {row_label(table, 0, path)} has {lengths[0]}")
    d = int(lengths[0]) if len(lengths) else 0
    if len(lengths) and d == 0:
        _fail(table, field, 0, path, "is an empty list")
    values = pc.list_flatten(column).cast(pa.float32()).to_numpy(zero_copy_only=False)
    X = values.reshape(len(lengths), d)
    finite = np.isfinite(X).all(axis=1)
    if not finite.all():
        _fail(table, field, int(np.flatnonzero(~finite)[0]), path, "holds a NaN, null or infinite value")
    return normalize_rows(X) if normalize else X


def _fail(table, field: str, row: int, path: str | None, problem: str) -> None:
    from quadiv.io import row_label

    raise InputError(
        f"column '{field}', {row_label(table, row, path)} {problem}: every row needs the same number of finite floats",
        path=path,
        fix="fix or drop that row",
    )
