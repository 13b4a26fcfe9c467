"""Helpers that turn a pool and a selection into the report's optional ``rows`` panels."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from quadiv.errors import UsageError
from quadiv.measure import group_quality
from quadiv.report._project import map_rows


def group_rows(
    labels: Sequence[object] | np.ndarray,
    quality: Sequence[float] | np.ndarray,
    chosen: Sequence[int] | np.ndarray | None = None,
) -> dict:
    """The report's ``rows["groups"]``: mean quality per group, of the pool and of the chosen rows.

        u_g = 1/n_g sum_{i in g} q_i   (per group g, over the pool: "before"; over the chosen rows: "after")

    Returns ``{"labels": [g...], "quality": {"before": [u_g...], "after": [...]}, "n": {...}}`` with
    groups in sorted order; a group with no chosen row has mean None after selection. Without
    `chosen` the one series is called "all".
    """
    labels = np.asarray([str(label) for label in labels])
    q = np.asarray(quality, dtype=np.float64)
    if labels.shape != q.shape:
        raise UsageError(f"labels and quality must have one value per row; got {labels.shape} and {q.shape}")
    pool = group_quality(q, labels)
    names = list(pool["group_means"])
    if chosen is None:
        return {"labels": names, "quality": {"all": list(pool["group_means"].values())},
                "n": {"all": list(pool["group_sizes"].values())}}
    idx = _indices(chosen, len(q))
    after = group_quality(q[idx], labels[idx]) if idx.size else {"group_means": {}, "group_sizes": {}}
    return {
        "labels": names,
        "quality": {"before": [pool["group_means"][g] for g in names],
                    "after": [after["group_means"].get(g) for g in names]},
        "n": {"before": [pool["group_sizes"][g] for g in names],
              "after": [after["group_sizes"].get(g, 0) for g in names]},
    }


def sample_rows(table: pa.Table, chosen: Sequence[int] | np.ndarray, k: int = 20, seed: int = 0) -> dict:
    """The report's ``rows["chosen_rows"]`` and ``rows["rejected_rows"]``: a few rows of each kind.

    The first `k` chosen rows in selection order, and `k` rows drawn uniformly (with `seed`) from
    those not chosen, in table order.
    """
    n = table.num_rows
    idx = _indices(chosen, n)
    rest = np.setdiff1d(np.arange(n), idx)
    rejected = np.sort(np.random.default_rng(seed).choice(rest, size=min(k, rest.size), replace=False))
    return {"chosen_rows": table.take(pa.array(idx[:k])).to_pylist(),
            "rejected_rows": table.take(pa.array(rejected)).to_pylist()}


def selection_rows(table: pa.Table, X: np.ndarray, chosen: Sequence[int] | np.ndarray,
                   quality: np.ndarray | None = None, groups: np.ndarray | None = None, *, seed: int = 0) -> dict:
    """The report's ``rows`` of one selection: the map, chosen and rejected rows, and with ``quality``
    its distribution before and after (and per group with ``groups``)."""
    rows = {"map": map_rows(X, chosen, groups, seed=seed), **sample_rows(table, chosen, seed=seed)}
    if quality is not None:
        rows["quality_before"], rows["quality_after"] = quality.tolist(), quality[chosen].tolist()
        if groups is not None:
            rows["groups"] = group_rows(groups, quality, chosen)
    return rows


def _indices(chosen: Sequence[int] | np.ndarray, n: int) -> np.ndarray:
    idx = np.asarray(chosen, dtype=np.int64).reshape(-1)
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise UsageError(f"chosen indices must lie in [0, {n}); got range [{idx.min()}, {idx.max()}]")
    return idx
