"""Embeddings the user already has: a ``.npy`` file or a list-of-floats column of the pool."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from quadiv.embed._base import normalize_rows
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
) -> np.ndarray:
    """Load an (n, d) embedding matrix from a ``.npy`` file, memory-mapped by default.

    Normalisation choice: the file is returned as it is (a read-only memmap, nothing copied), after a
    check that up to 10,000 evenly spaced rows have unit L2 norm (or are zero); a file that fails it is
    an InputError unless ``normalize=True``, which builds a normalised float32 copy in RAM block by
    block (x_i / ||x_i||), or ``check=False``, which trusts the file. Non-float32 files are converted
    to a float32 copy.
    """
    path = Path(path)
    if path.suffix != ".npy":
        raise InputError(
            f"expected a .npy file, got '{path.suffix or 'no suffix'}'",
            path=str(path),
            fix="save the matrix with numpy.save(path, X)",
        )
    try:
        X = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise InputError(
            f"cannot read as a .npy array ({err})",
            path=str(path),
            fix="save the matrix with numpy.save(path, X)",
        ) from None
    expected = f"({n_expected}, d)" if n_expected is not None else "(n, d)"
    if X.ndim != 2 or (n_expected is not None and X.shape[0] != n_expected):
        raise InputError(
            f"expected an array of shape {expected}, one row per item, got shape {X.shape}",
            path=str(path),
            fix="embed the same rows, in the same order, as the input",
        )
    if not np.issubdtype(X.dtype, np.floating):
        raise InputError(
            f"expected float32 embeddings of shape {expected}, got dtype {X.dtype}", path=str(path)
        )
    if normalize:
        return _normalised_copy(X)
    if X.dtype != np.float32:
        X = X.astype(np.float32)
    if check:
        _check_unit_rows(X, str(path))
    return X


def _normalised_copy(X: np.ndarray) -> np.ndarray:
    out = np.empty(X.shape, dtype=np.float32)
    for lo in range(0, X.shape[0], _BLOCK):
        block = np.asarray(X[lo : lo + _BLOCK], dtype=np.float32)
        if not np.all(np.isfinite(block)):
            bad = lo + int(np.flatnonzero(~np.isfinite(block).all(axis=1))[0])
            raise InputError(f"row {bad} holds a NaN or infinite value", fix="recompute or drop that row")
        out[lo : lo + _BLOCK] = normalize_rows(block.copy())
    return out


def _check_unit_rows(X: np.ndarray, source: str) -> None:
    rows = np.unique(np.linspace(0, X.shape[0] - 1, min(X.shape[0], _CHECK_ROWS)).astype(np.int64))
    sample = np.asarray(X[rows], dtype=np.float64)
    norms = np.sqrt((sample**2).sum(axis=1))
    bad = ~np.isfinite(norms) | ((np.abs(norms - 1) > _NORM_TOL) & (norms != 0))
    if bad.any():
        row = int(rows[np.flatnonzero(bad)[0]])
        raise InputError(
            f"row {row} has L2 norm {norms[bad][0]:.4g}, expected unit rows (cosine geometry)",
            path=source,
            fix="pass normalize=True to normalise a copy, or check=False to use it as is",
        )


def embeddings_from_column(table, field: str, *, normalize: bool = True) -> np.ndarray:
    """Read a list-of-floats column of a pyarrow table as an (n, d) float32 matrix, rows L2-normalised.

    Every row must hold the same number d of finite values; errors name the first bad row (and its id).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if field not in table.column_names:
        raise UsageError(f"no column '{field}' in the data; columns are: {', '.join(table.column_names)}")
    column = table.column(field).combine_chunks()
    if not (
        pa.types.is_list(column.type)
        or pa.types.is_large_list(column.type)
        or pa.types.is_fixed_size_list(column.type)
    ):
        raise InputError(
            f"column '{field}' must hold lists of floats (one embedding per row), got {column.type}"
        )
    lengths = pc.list_value_length(column).to_numpy(zero_copy_only=False)
    ids = table.column("id").to_pylist() if "id" in table.column_names else None
    if column.null_count:
        _fail(
            field,
            int(np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))[0]),
            ids,
            "is empty (null)",
        )
    if len(lengths) and (lengths != lengths[0]).any():
        row = int(np.flatnonzero(lengths != lengths[0])[0])
        _fail(field, row, ids, f"has {lengths[row]} values but row 0 has {lengths[0]}")
    d = int(lengths[0]) if len(lengths) else 0
    values = pc.list_flatten(column).to_numpy(zero_copy_only=False).astype(np.float32)
    X = values.reshape(len(lengths), d)
    finite = np.isfinite(X).all(axis=1)
    if not finite.all():
        _fail(field, int(np.flatnonzero(~finite)[0]), ids, "holds a NaN, null or infinite value")
    return normalize_rows(X) if normalize else X


def _fail(field: str, row: int, ids, problem: str) -> None:
    where = f"row {row}" + (f" (id {ids[row]})" if ids is not None else "")
    raise InputError(
        f"column '{field}', {where} {problem}: every row needs the same number of finite floats",
        fix="fix or drop that row",
    )
