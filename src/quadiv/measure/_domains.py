"""Semantic-domain coverage: how many domains a set reaches, how evenly, and how diverse it is inside each.

After Zhang, Wang, Charton (2024), "Only-IF: Revealing the Decisive Effect of Instruction Diversity on
Generalization" (arXiv 2410.04717): generalisation to unseen instructions comes from diversity *across*
semantic domains, not within few of them, so the two are reported apart. The paper's own operational
measure is unverified (only its abstract could be read; METHODS.md section 3); these are quadiv's.
"""
from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

from quadiv.errors import UsageError
from quadiv.measure import _structure, _vendi
from quadiv.measure._arrays import finite_matrix


def domain_codes(domains: Sequence[Hashable] | np.ndarray,
                 taxonomy: Sequence[Hashable] | None = None) -> tuple[np.ndarray, int]:
    """Each item's domain as an index into the taxonomy, and the taxonomy's size.

    Without ``taxonomy`` the taxonomy is the set of labels seen (sorted as strings). A label outside a
    given taxonomy is a UsageError naming it.
    """
    labels = np.asarray(domains, dtype=object)
    if labels.ndim != 1:
        raise UsageError(f"domain labels must be one label per item; got shape {labels.shape}")
    names = sorted(set(labels.tolist()), key=str) if taxonomy is None else list(dict.fromkeys(taxonomy))
    if not names:
        raise UsageError("the `taxonomy` of domains is empty; give at least one domain")
    index = {name: i for i, name in enumerate(names)}
    unknown = next((label for label in labels.tolist() if label not in index), None)
    if unknown is not None:
        raise UsageError(f"domain {unknown!r} is not in the `taxonomy` ({len(names)} domains)")
    return np.fromiter((index[label] for label in labels.tolist()), dtype=np.int64, count=labels.size), len(names)


def kmeans_domains(X: np.ndarray, k: int | None = None, *, seed: int = 0) -> tuple[np.ndarray, int]:
    """Domains as k-means clusters of the rows of X: (cluster of each row, k).

    The clustering is :func:`cluster_entropy`'s (spherical faiss k-means from k-means++ seeds, 20
    iterations), with the same default k = ``default_k(n)`` = min(max(2, round(sqrt(n / 2))), 100, n);
    a single row is one domain.
    """
    data = finite_matrix(X, "X", np.float32)
    n = data.shape[0]
    k = _structure.default_k(n) if k is None else k
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= max(n, 1):
        raise UsageError(f"k must be an integer in [1, n={n}]; got {k!r}")
    if n < 2 or k == 1:
        return np.zeros(n, dtype=np.int64), 1
    return _structure.kmeans_labels(data, int(k), seed=seed, niter=20).astype(np.int64), int(k)


def domain_coverage(domains: Sequence[Hashable] | np.ndarray, taxonomy: Sequence[Hashable] | None = None, *,
                    min_count: int = 1) -> float:
    """Share of the taxonomy's domains that hold at least ``min_count`` items.

        coverage = |{d in T : n_d >= m}| / |T|        (T the taxonomy, m = min_count, default 1)

    Without ``taxonomy``, T is the set of domains seen, so a whole pool covers 1.0; measure a selection
    against the pool's domains (``taxonomy=`` the pool's labels) to see what it drops.
    """
    if isinstance(min_count, bool) or not isinstance(min_count, (int, np.integer)) or min_count < 1:
        raise UsageError(f"min_count must be a positive integer; got {min_count!r}")
    codes, size = domain_codes(domains, taxonomy)
    return coverage_of(codes, size, min_count)


def domain_evenness(domains: Sequence[Hashable] | np.ndarray, taxonomy: Sequence[Hashable] | None = None) -> float:
    """exp(entropy of the domain shares) / number of domains in the taxonomy, in (0, 1].

        evenness = exp(-sum_d p_d log p_d) / |T|,    p_d = n_d / n   (0 log 0 = 0)

    the Hill number of order 1 (the Vendi score of one-hot domain features) over its maximum: 1 when
    every domain of T holds the same share, 1/|T| when one domain holds everything. Domains of T that
    the set misses lower it, so evenness rises with coverage.
    """
    codes, size = domain_codes(domains, taxonomy)
    return evenness_of(codes, size)


def within_domain_vendi(X: np.ndarray, domains: Sequence[Hashable] | np.ndarray) -> float:
    """Share-weighted mean Vendi score (order 1, cosine kernel) of the items of each domain.

        within = sum_d p_d VS(X_d),    p_d = n_d / n

    (Friedman and Dieng 2023, "The Vendi Score", TMLR). It stays put when a set spreads over more
    domains with the same spread inside each, which coverage and evenness then register.
    """
    codes, size = domain_codes(domains)
    if len(codes) != len(X):
        raise UsageError(f"X has {len(X)} rows but there are {len(codes)} domain labels")
    return within_vendi_of(np.asarray(X), codes, size)


def coverage_of(codes: np.ndarray, size: int, min_count: int = 1) -> float:
    """Coverage from domain indices in [0, size)."""
    return float(np.count_nonzero(np.bincount(codes, minlength=size) >= min_count) / size)


def evenness_of(codes: np.ndarray, size: int) -> float:
    """Evenness from domain indices in [0, size); NaN for an empty set."""
    if codes.size == 0:
        return float("nan")
    p = np.bincount(codes, minlength=size) / codes.size
    p = p[p > 0]
    return float(np.exp(-(p * np.log(p)).sum()) / size)


def within_vendi_of(X: np.ndarray, codes: np.ndarray, size: int) -> float:
    """Within-domain Vendi from domain indices in [0, size); NaN for an empty set."""
    if codes.size == 0:
        return float("nan")
    counts = np.bincount(codes, minlength=size)
    return float(sum(counts[d] / codes.size * _vendi.vendi(X[codes == d]) for d in np.flatnonzero(counts)))
