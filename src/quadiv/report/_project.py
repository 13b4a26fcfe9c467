"""A 2-D map of embeddings for the report: principal component analysis in numpy."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from quadiv.errors import UsageError


def project_2d(X: np.ndarray, max_points: int = 5000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The first two principal components of at most `max_points` rows: ``(xy (m, 2), rows (m,))``.

        Xc = X_S - mean(X_S),   Xc = U S V^T,   xy = Xc V[:, :2] = U[:, :2] S[:2]

    with X_S the rows `rows` (all of them, or `max_points` drawn uniformly without replacement with
    `seed`, in increasing order). The eigenproblem is solved on the smaller of the d x d scatter
    matrix Xc^T Xc and the m x m Gram matrix Xc Xc^T. Each component's sign is fixed so that its
    largest-magnitude coordinate is positive. Pearson (1901), "On lines and planes of closest fit";
    Hotelling (1933).
    """
    X = _matrix(X)
    if not isinstance(max_points, (int, np.integer)) or max_points < 1:
        raise UsageError(f"max_points must be a positive integer; got {max_points!r}")
    n = X.shape[0]
    rows = np.arange(n) if n <= max_points else np.sort(
        np.random.default_rng(seed).choice(n, size=int(max_points), replace=False))
    sample = X[rows].astype(np.float64)
    if not np.isfinite(sample).all():
        raise UsageError("embeddings hold NaN or infinite values; fix or drop those rows first")
    Xc = sample - sample.mean(axis=0)
    xy = np.zeros((rows.size, 2))
    components = _components(Xc)
    xy[:, : components.shape[1]] = components
    return xy, rows


def _components(Xc: np.ndarray) -> np.ndarray:
    """Scores on the (at most) two leading principal axes, sign-normalised."""
    m, d = Xc.shape
    if d <= m:
        _, vecs = np.linalg.eigh(Xc.T @ Xc)
        scores = Xc @ vecs[:, ::-1][:, :2]
    else:
        vals, vecs = np.linalg.eigh(Xc @ Xc.T)
        scores = vecs[:, ::-1][:, :2] * np.sqrt(np.clip(vals[::-1][:2], 0.0, None))
    peak = scores[np.argmax(np.abs(scores), axis=0), np.arange(scores.shape[1])]
    return scores * np.where(peak < 0, -1.0, 1.0)


def map_rows(
    X: np.ndarray,
    chosen: Sequence[int] | np.ndarray | None = None,
    labels: Sequence[object] | np.ndarray | None = None,
    *,
    max_points: int = 5000,
    seed: int = 0,
) -> dict:
    """The report's ``rows["map"]``: a 2-D projection (:func:`project_2d`) of the embeddings.

    `chosen` holds the indices of the selected rows (without it, as in a measure, nothing is marked
    and the page colours points by label); `labels` one label per row (a group, an id), shown when
    the pointer rests on a point. Returns ``{"x", "y", "total"}`` with ``"chosen"`` and ``"label"``
    lists when given; ``total`` is the number of rows, of which at most `max_points` are drawn.
    """
    X = _matrix(X)
    n = X.shape[0]
    xy, rows = project_2d(X, max_points=max_points, seed=seed)
    out = {"x": xy[:, 0].tolist(), "y": xy[:, 1].tolist(), "total": n}
    if chosen is not None:
        idx = np.asarray(chosen, dtype=np.int64).reshape(-1)
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            raise UsageError(f"chosen indices must lie in [0, {n}); got range [{idx.min()}, {idx.max()}]")
        mask = np.zeros(n, dtype=bool)
        mask[idx] = True
        out["chosen"] = mask[rows].tolist()
    if labels is not None:
        labels = np.asarray(labels, dtype=object)
        if labels.shape != (n,):
            raise UsageError(f"labels must hold one label per row ({n}); got shape {labels.shape}")
        out["label"] = [str(label) for label in labels[rows]]
    return out


def _matrix(X: np.ndarray) -> np.ndarray:
    """`X` as an array (not copied); a non-numeric or non-(n, d) input raises UsageError."""
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0 or not np.issubdtype(X.dtype, np.number):
        raise UsageError(f"embeddings must be a non-empty numeric (n, d) matrix; got shape {X.shape}, "
                         f"dtype {X.dtype}")
    return X
