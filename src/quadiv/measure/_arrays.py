"""Input checks shared by the metric functions."""
from __future__ import annotations

import numpy as np

from quadiv.errors import UsageError


def finite_matrix(x: np.ndarray, name: str, dtype: type = np.float64) -> np.ndarray:
    """A non-empty 2-D C-contiguous array of ``dtype``; NaN or inf raises UsageError naming the entry."""
    arr = np.asarray(x)
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise UsageError(f"{name} must be a non-empty 2-D array (n, d); got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.number):
        raise UsageError(f"{name} must hold numbers; got dtype {arr.dtype}")
    bad = ~np.isfinite(arr)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise UsageError(f"{name}[{row}, {col}] is {arr[row, col]}; embeddings must be finite "
                         "(drop or re-embed that row)")
    return np.ascontiguousarray(arr, dtype=dtype)
