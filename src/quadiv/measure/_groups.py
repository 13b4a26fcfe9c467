"""Quality across items and groups: summary statistics, worst-group and inequality, benchmark harmony."""
from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence

import numpy as np

from quadiv.errors import UsageError

_PERCENTILES = {"quality_p10": 10, "quality_p25": 25, "quality_median": 50, "quality_p75": 75,
                "quality_p90": 90}


def quality_stats(quality: Sequence[float] | np.ndarray) -> dict[str, float]:
    """Summary statistics of per-item quality: mean, population std, min, percentiles, max.

        quality_mean = 1/n sum_i q_i,   quality_std = sqrt(1/n sum_i (q_i - mean)^2),
        quality_pP = the P-th percentile with linear interpolation between order statistics
        (numpy's default; Hyndman and Fan 1996, definition 7).

    Reporting the tail of the quality distribution next to its mean follows the worst-case and
    percentile reporting of Mushkani, Berard, Koseki (2025), "Negotiative Alignment" (arXiv:2503.12613).
    """
    q = _vector(quality, "quality")
    stats = {"quality_mean": float(q.mean()), "quality_std": float(q.std()), "quality_min": float(q.min())}
    values = np.percentile(q, list(_PERCENTILES.values()))
    stats.update({name: float(v) for name, v in zip(_PERCENTILES, values)})
    stats["quality_max"] = float(q.max())
    return stats


def group_quality(quality: Sequence[float] | np.ndarray, groups: Sequence[Hashable] | np.ndarray) -> dict:
    """Per-group mean quality, the worst group, the 20th percentile and the Gini coefficient of group means.

    With u_g the mean quality of the items of group g (G groups, mean u_bar):

        worst_group_mean = min_g u_g          (worst_group names that g; ties: first in sorted order)
        group_p20        = 20th percentile of {u_g} (linear interpolation)
        group_gini       = sum_g sum_h |u_g - u_h| / (2 G^2 u_bar)   (0 = equal, (G-1)/G = one non-zero)
        group_total      = sum_g u_g

    Mushkani, Berard, Koseki (2025), "Negotiative Alignment: Embracing Disagreement to Achieve Fairer
    Outcomes", arXiv:2503.12613, report exactly these for stakeholder groups: total utility,
    worst-group utility, 20th-percentile satisfaction and the Gini coefficient. They min-max normalise
    satisfaction across the designs of a scenario before the percentile; here group_p20 is on the raw
    group means (normalise across the compared pools yourself if you need that). The Gini coefficient
    needs non-negative group means (NaN otherwise); all-zero means give 0.
    Returns {"group_means": {group: u_g}, "group_sizes": {group: n_g}, "worst_group", "worst_group_mean",
    "group_p20", "group_gini", "group_total"}; group names are str(group).
    """
    q = _vector(quality, "quality")
    labels = _labels(groups, len(q))
    names, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    means = np.bincount(inverse, weights=q) / counts
    worst = int(np.argmin(means))
    keys = [str(name) for name in names]
    return {
        "group_means": dict(zip(keys, means.tolist())),
        "group_sizes": dict(zip(keys, counts.tolist())),
        "worst_group": keys[worst],
        "worst_group_mean": float(means[worst]),
        "group_p20": float(np.percentile(means, 20)),
        "group_gini": gini(means) if means.min() >= 0 else math.nan,
        "group_total": float(means.sum()),
    }


def gini(values: Sequence[float] | np.ndarray) -> float:
    """Gini coefficient of non-negative values: mean absolute difference over twice the mean.

        G = sum_i sum_j |x_i - x_j| / (2 n^2 x_bar) = sum_i (2i - n - 1) x_(i) / (n sum_i x_i)

    with x_(1) <= ... <= x_(n) (the sorted form is O(n log n)). G = 0 for equal values, (n-1)/n when
    one value is non-zero; all-zero values give 0. Gini (1912); used for group utilities by Mushkani
    et al. (2025), "Negotiative Alignment", arXiv:2503.12613.
    """
    x = np.sort(_vector(values, "values"))
    if x[0] < 0:
        raise UsageError(f"the Gini coefficient needs non-negative values; got minimum {x[0]} "
                         "(shift or rescale quality to be non-negative)")
    total = x.sum()
    if total == 0:
        return 0.0
    n = len(x)
    ranks = np.arange(1, n + 1)
    return float(((2 * ranks - n - 1) * x).sum() / (n * total))


def harmony(scores_by_subdomain: Mapping[Hashable, float] | Sequence[float] | np.ndarray) -> float:
    """Benchmark harmony: normalised Shannon entropy of a model's performance shares over subdomains.

    With s_i >= 0 the performance (e.g. accuracy) on subdomain i of k >= 2 subdomains:

        p_i = s_i / sum_j s_j,   harmony = -sum_i p_i log p_i / log k   (0 log 0 = 0)

    harmony = 1 (its maximum) when performance is equal on every subdomain and 0 (its minimum) when all
    performance sits in one subdomain. After Uzunoglu, Li, Khashabi (2025), "The Flaw of Averages:
    Quantifying Uniformity of Performance on Benchmarks", arXiv:2509.25671, which defines harmony as the
    normalised entropy of a model's performance distribution over a benchmark's subdomains. The paper's
    own equation could not be consulted for this implementation (secondary summaries mention a Gaussian
    kernel applied to the performances before the entropy); this is the plain normalised entropy of the
    performance shares, the closest form that those summaries support.
    """
    s = _scores(scores_by_subdomain)
    if len(s) < 2:
        raise UsageError(f"harmony needs at least 2 subdomains; got {len(s)}")
    if s.min() < 0:
        raise UsageError(f"harmony needs non-negative subdomain scores; got minimum {s.min()} "
                         "(use accuracy-like scores, higher is better, >= 0)")
    total = s.sum()
    if total == 0:
        raise UsageError("harmony is undefined when every subdomain score is 0 (no performance to spread)")
    p = s[s > 0] / total
    return float(-(p * np.log(p)).sum() / math.log(len(s)))


def harmony_across_models(
    scores: Mapping[Hashable, Mapping[Hashable, float]] | np.ndarray,
) -> dict[str, float]:
    """Mean and variance of harmony over models: a benchmark's point on the harmony mean-variance plane.

        harmony_mean = 1/M sum_m harmony(s_m),   harmony_var = 1/M sum_m (harmony(s_m) - harmony_mean)^2

    Uzunoglu, Li, Khashabi (2025), "The Flaw of Averages", arXiv:2509.25671: a benchmark is more
    reliable when harmony across models has a high mean and a low variance. `scores` is an (M, k) array
    (models x subdomains) or {model: {subdomain: score}} with the same subdomains for every model.
    """
    rows = _score_rows(scores)
    values = np.array([harmony(row) for row in rows])
    return {"harmony_mean": float(values.mean()), "harmony_var": float(values.var())}


def _vector(x: Sequence[float] | np.ndarray, name: str) -> np.ndarray:
    """A 1-D float64 copy of `x`; NaN or inf raises UsageError naming the index."""
    arr = np.asarray(x)
    if arr.ndim != 1 or arr.shape[0] == 0:
        raise UsageError(f"{name} must be a non-empty 1-D sequence of numbers; got shape {arr.shape}")
    try:
        arr = arr.astype(np.float64)
    except (TypeError, ValueError) as err:
        raise UsageError(f"{name} must hold numbers; got dtype {arr.dtype}") from err
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise UsageError(f"{name}[{bad[0]}] is {arr[bad[0]]}; values must be finite "
                         "(fill or drop missing quality first)")
    return arr


def group_counts(groups: Sequence[Hashable] | np.ndarray, chosen: Sequence[int] | np.ndarray) -> dict:
    """Rows per group in the pool and among the ``chosen`` indices: ``{g: {"before": n_g, "after": m_g}}``.

    Groups in sorted order, names str(g); a group nothing was chosen from has ``"after": 0``.
    """
    labels = _labels(groups, len(groups))
    names, inverse = np.unique(labels, return_inverse=True)
    before = np.bincount(inverse, minlength=names.size)
    after = np.bincount(inverse[np.asarray(chosen, dtype=np.int64)], minlength=names.size)
    return {str(g): {"before": int(b), "after": int(a)} for g, b, a in zip(names, before, after)}


def _labels(groups: Sequence[Hashable] | np.ndarray, n: int) -> np.ndarray:
    """Group labels as a 1-D array of length n; a missing label raises UsageError naming the index."""
    arr = np.asarray(groups)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise UsageError(f"groups must be 1-D with one label per item ({n}); got shape {arr.shape}")
    for i, g in enumerate(arr.tolist()):
        if g is None or (isinstance(g, float) and math.isnan(g)):
            raise UsageError(f"groups[{i}] is {g}; every item needs a group label")
    if arr.dtype == object:
        arr = arr.astype(str)
    return arr


def _scores(scores: Mapping[Hashable, float] | Sequence[float] | np.ndarray) -> np.ndarray:
    """Subdomain scores as a float64 vector; a NaN names its subdomain."""
    if isinstance(scores, Mapping):
        for key, value in scores.items():
            if not _finite_number(value):
                raise UsageError(f"scores[{key!r}] is {value!r}; every subdomain needs a finite score")
        return np.array([float(value) for value in scores.values()], dtype=np.float64)
    return _vector(scores, "scores")


def _finite_number(value: object) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _score_rows(scores: Mapping[Hashable, Mapping[Hashable, float]] | np.ndarray) -> list[np.ndarray]:
    """Per-model score vectors over the same subdomains, in a fixed subdomain order."""
    if isinstance(scores, Mapping):
        if not scores:
            raise UsageError("scores must hold at least one model")
        subdomains = list(next(iter(scores.values())))
        rows = []
        for model, by_sub in scores.items():
            if set(by_sub) != set(subdomains):
                raise UsageError(f"model {model!r} has subdomains {sorted(map(str, by_sub))}; expected "
                                 f"{sorted(map(str, subdomains))} (score every model on the same subdomains)")
            rows.append(_scores({sub: by_sub[sub] for sub in subdomains}))
        return rows
    arr = np.asarray(scores)
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise UsageError(f"scores must be an (models, subdomains) array; got shape {arr.shape}")
    return [_vector(row, f"scores[{m}]") for m, row in enumerate(arr)]
