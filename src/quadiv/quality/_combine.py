"""Joining several quality scores into one: orient, normalise per column (optionally within groups), aggregate.

The rules follow the combinations the curation anchors use (QUALITY.md §4): QuaDMix's per-criterion
normalisation before a weighted merge (Liu et al. 2025, arXiv 2504.16511, §3.1), and DEITA's product of
quality and complexity scores (Liu et al. 2024, arXiv 2312.15685, §2.4).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy.stats import rankdata

from quadiv.errors import InputError, UsageError

NORMALIZATIONS = ("rank", "zscore", "minmax", "none")
AGGREGATES = ("mean", "weighted", "product", "min")
NAN_POLICIES = ("error", "skip")


def normalize_column(values: np.ndarray, method: str = "rank") -> np.ndarray:
    """One column normalised over its non-NaN entries (NaN stays NaN).

    ``rank``: average rank / count, in (0, 1], ties share their mean rank (a percentile; any monotone
    rescaling of the scores gives the same result). ``zscore``: (x - mean) / sd (population sd; 0 where
    all values are equal). ``minmax``: (x - min) / (max - min), in [0, 1] (1 where all values are equal).
    ``none``: the values as they are.
    """
    out = np.asarray(values, dtype=np.float64).copy()
    known = ~np.isnan(out)
    x = out[known]
    if method == "none" or x.size == 0:
        return out
    if method == "rank":
        out[known] = rankdata(x, method="average") / x.size
    elif method == "zscore":
        sd = x.std()
        out[known] = (x - x.mean()) / sd if sd > 0 else 0.0
    elif method == "minmax":
        span = x.max() - x.min()
        out[known] = (x - x.min()) / span if span > 0 else 1.0
    else:
        raise UsageError(f"unknown normalisation '{method}'; choose one of: {', '.join(NORMALIZATIONS)}")
    return out


def combine(
    columns: Mapping[str, Sequence[float] | np.ndarray],
    *,
    directions: Mapping[str, bool] | None = None,
    normalize: str = "rank",
    groups: Sequence[str] | np.ndarray | None = None,
    aggregate: str = "mean",
    weights: Mapping[str, float] | None = None,
    nan: str = "error",
    path: str | None = None,
) -> np.ndarray:
    """One score per row from named score columns, higher = better.

    Each column is first oriented (``directions[name]`` False: lower is better, so it is negated), then
    normalised (:func:`normalize_column`; within each group of ``groups`` when given), then aggregated per row:
    ``mean``, ``weighted`` (sum of w_c s_c / sum of w_c over the row's columns), ``product`` (DEITA's
    quality x complexity; needs positive inputs, so use ``rank`` or ``minmax``, or raw positive scores with
    ``none``) or ``min`` (the worst criterion). ``nan='error'`` rejects a NaN naming its column and row;
    ``nan='skip'`` aggregates each row over its known columns (a row with none stays NaN).
    """
    if normalize not in NORMALIZATIONS:
        raise UsageError(f"unknown normalisation '{normalize}'; choose one of: {', '.join(NORMALIZATIONS)}")
    if aggregate not in AGGREGATES:
        raise UsageError(f"unknown aggregate '{aggregate}'; choose one of: {', '.join(AGGREGATES)}")
    if nan not in NAN_POLICIES:
        raise UsageError(f"the NaN policy must be error or skip, got '{nan}'")
    if not columns:
        raise UsageError("combine needs at least one score column")
    names = list(columns)
    table = np.column_stack([np.asarray(columns[c], dtype=np.float64) for c in names])
    if nan == "error" and np.isnan(table).any():
        row, col = np.argwhere(np.isnan(table))[0]
        raise InputError(f"row {row + 1}: score '{names[col]}' is missing or NaN", path=path,
                         fix="score that row again, or aggregate over the known scores: `nan` skip")
    directions = directions or {}
    for j, name in enumerate(names):
        if not directions.get(name, True):
            table[:, j] = -table[:, j]
    labels = np.zeros(len(table), dtype=np.int64) if groups is None else np.unique(np.asarray(groups),
                                                                                 return_inverse=True)[1]
    for g in np.unique(labels):
        rows = labels == g
        for j in range(table.shape[1]):
            table[rows, j] = normalize_column(table[rows, j], normalize)
    return _aggregate(table, names, aggregate, weights)


def _aggregate(table: np.ndarray, names: list[str], how: str, weights: Mapping[str, float] | None) -> np.ndarray:
    known = ~np.isnan(table)
    filled = np.where(known, table, 0.0)
    empty = ~known.any(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        if how == "mean":
            out = filled.sum(axis=1) / known.sum(axis=1)
        elif how == "weighted":
            unknown = set(weights or {}) - set(names)
            if not weights or unknown:
                raise UsageError(f"weighted needs a weight per column ({', '.join(names)})"
                                 + (f"; no column {', '.join(sorted(unknown))}" if unknown else ""))
            w = np.array([float(weights.get(c, 0.0)) for c in names])
            if (w < 0).any() or w.sum() <= 0:
                raise UsageError("weights must be non-negative with a positive sum")
            out = (filled * w).sum(axis=1) / (known * w).sum(axis=1)
        elif how == "product":
            out = np.where(known, table, 1.0).prod(axis=1)
        else:
            out = np.where(known, table, np.inf).min(axis=1)
    out[empty] = np.nan
    return out
