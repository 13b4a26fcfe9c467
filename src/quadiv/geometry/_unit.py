"""Unit rows: the one normalisation of embeddings that every selector and metric sees."""
from __future__ import annotations

import weakref
from typing import Any

import numpy as np


def unit_rows(X: np.ndarray, empty_axis: bool | None = None, keep_float64: bool = False, *,
              engine: Any = None) -> np.ndarray:
    """X as C-contiguous float32 (float64 input stays float64 with ``keep_float64``) with L2-normalised rows, every zero row mapped to one shared point.

    x_i / ||x_i||_2 for every nonzero row. A zero row is an item the embedder could not embed (a text
    with no known token: emoji-only, zero-width or empty); all of them are the same "no content"
    point, at cosine 0 from every other item and 1 from each other. That point is the unit vector
    e_{d+1} of one extra coordinate (0 on every nonzero row), so the result has d + 1 columns when X
    has a zero row (``empty_axis=None``), or always / never when ``empty_axis`` is True / False
    (True keeps two arrays in one geometry; False leaves zero rows at zero). Every selector and the
    embedding metrics of ``measure`` see embeddings through this function. No copy when X already
    is unit-row float32 and no column is added. ``engine`` (a :mod:`quadiv.engine` engine) checks the rows
    of a memory-mapped X as its tasks (:func:`rows_are_unit`).
    """
    dtype = np.float64 if keep_float64 and np.asarray(X).dtype == np.float64 else np.float32
    X = np.ascontiguousarray(X, dtype=dtype)
    if X.shape[0] and rows_are_unit(X, 2e-4, engine):
        return np.ascontiguousarray(np.hstack([X, np.zeros((len(X), 1), dtype)])) if empty_axis else X
    norms = np.sqrt(np.einsum("ij,ij->i", X, X, dtype=np.float64))
    empty = norms == 0
    if not np.allclose(norms[~empty], 1.0, atol=1e-4):
        X = (X / np.where(empty, 1.0, norms)[:, None]).astype(dtype)
    if not (empty.any() if empty_axis is None else empty_axis):
        return X
    return np.ascontiguousarray(np.hstack([X, empty[:, None].astype(dtype)]))


def rows_are_unit(X: np.ndarray, atol: float, engine: Any = None) -> bool:
    """Whether every row has | ||x||^2 - 1 | <= atol, in X's own precision (7x faster than float64 on float32
    rows; relative error ~3e-7, far inside the tolerance).

    A memory-mapped X on an engine with workers is checked as the engine's tasks, each reading its batch
    from the file (a pool's pass shared by the cluster, not the driver's); the answer for a read-only
    array is remembered, so the selector, facility location and k-means check it once between them.
    """
    if engine is None or not engine.file_backed(X):
        return batch_is_unit(X, atol)
    key = (X.__array_interface__["data"][0], X.shape, X.strides, X.dtype.str)
    for ref, known, tolerance, answer in _CHECKED:
        # unit within a tolerance is unit within any larger one; not unit, not within any smaller one
        if ref() is X and known == key and (tolerance <= atol if answer else tolerance >= atol):
            return answer
    answer = all(engine.map_batches(batch_is_unit, X, atol))
    if not X.flags.writeable:
        _CHECKED.append((weakref.ref(X), key, atol, answer))
        del _CHECKED[:-4]
    return answer


def batch_is_unit(rows: np.ndarray, atol: float) -> bool:
    """:func:`rows_are_unit` of one batch of rows (a task's body)."""
    return bool(np.allclose(np.einsum("ij,ij->i", rows, rows), 1.0, rtol=0.0, atol=atol))


_CHECKED: list[tuple[weakref.ref, tuple, float, bool]] = []  # the last read-only arrays checked on an engine


def has_zero_row(X: np.ndarray) -> bool:
    """Whether some row of X is all zeros (an item :func:`unit_rows` maps to the shared empty point)."""
    return bool((~np.asarray(X).any(axis=1)).any())
