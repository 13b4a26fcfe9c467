"""`selection_metrics`: the same metrics of a pool and of a selection from it, side by side."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from quadiv.measure._measure import measure


def selection_metrics(
    X: np.ndarray,
    chosen: Sequence[int] | np.ndarray,
    texts: Sequence[str] | None = None,
    quality: np.ndarray | None = None,
    *,
    metrics: Sequence[str] | None = None,
    seed: int = 0,
) -> dict[str, dict[str, float]]:
    """The metrics of the pool and of its rows ``chosen``: ``{"before": {...}, "after": {...}}``.

    By default: ``vendi`` and ``mean_pairwise_distance``, plus ``distinct_2`` with ``texts`` and
    ``quality_mean`` and ``qvendi`` with ``quality``.
    """
    if metrics is None:
        metrics = ["vendi", "mean_pairwise_distance"] + (["distinct_2"] if texts is not None else [])
        metrics += ["quality_mean", "qvendi"] if quality is not None else []
    X = np.asarray(X)
    chosen = np.asarray(chosen, dtype=np.intp)
    before = measure(X, texts, quality, metrics=metrics, seed=seed)["metrics"]
    after = measure(X[chosen], None if texts is None else [texts[i] for i in chosen],
                    None if quality is None else np.asarray(quality)[chosen], metrics=metrics, seed=seed)["metrics"]
    return {"before": before, "after": after}
