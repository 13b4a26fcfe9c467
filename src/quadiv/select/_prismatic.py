"""Prismatic Synthesis' sparse-cluster filter as a selector: items of the least populated k-means clusters first."""
from __future__ import annotations

import math

import numpy as np

from quadiv.errors import UsageError
from quadiv.geometry import kmeans
from quadiv.select._base import Selection, Selector, min_max, register, unit_quality


@register
class PrismaticSelector(Selector):
    """Prismatic Synthesis' sparse-cluster filter: cluster the pool, keep items of the sparsest clusters first.

    Jung et al. 2025, "Prismatic Synthesis" (arXiv 2505.20161): samples are clustered in gradient space and a
    new sample is kept only when it falls in a sparse (little-populated) cluster. Here the pool itself is the
    candidate set: k-means (:func:`quadiv.geometry.kmeans`, k = ``n_clusters``, default round(sqrt(n))) on the
    rows, then each item gets s_i = 1 - (|C(i)| - min_j |C_j|) / (max_j |C_j| - min_j |C_j|) (1 in the
    sparsest cluster, 0 in the most populated; 1 for all when sizes are equal), and the ``budget`` items of
    highest (1 - t) s_i + t q~_i are chosen (q~ = :func:`unit_quality`), ties in a seeded random order; repeats
    of a row (exact duplicates, the zero rows' shared point) come after every row's best-scored occurrence, as they add
    no coverage. t = 0: whole clusters in increasing size; t = 1: the top-quality items. ``objective`` is the mean of that score
    over the chosen items. Use ``--embedder grad:<model dir>`` for the paper's gradient space. Unverified
    (METHODS.md sec. 1): the paper's number of clusters and its sparsity threshold; its generate-and-filter
    loop is the caller's (select again after adding candidates).

    Parameters:
        n_clusters: k of k-means (default round(sqrt(n)), at most n).
    """

    name = "prismatic"

    def __init__(self, n_clusters: int | None = None):
        if n_clusters is not None and n_clusters < 1:
            raise UsageError(f"n_clusters must be at least 1, got {n_clusters}")
        self.n_clusters = n_clusters

    def _select(self, X, budget, quality, tradeoff, groups, seed) -> Selection:
        n = X.shape[0]
        labels, _ = kmeans(X, self.n_clusters or max(1, round(math.sqrt(n))), seed)
        sizes = np.bincount(labels)
        sparsity = 1.0 - min_max(sizes) if sizes.min() < sizes.max() else np.ones(sizes.size)
        score = (1.0 - tradeoff) * sparsity[labels] + tradeoff * unit_quality(quality, n)
        ties = np.random.default_rng(seed).permutation(n)
        order = np.lexsort((ties, -score))
        repeat = np.ones(n, dtype=bool)
        repeat[np.unique(X[order], axis=0, return_index=True)[1]] = False
        indices = order[np.argsort(repeat, kind="stable")][:budget].astype(np.int64)
        return Selection(indices=indices, objective=float(score[indices].mean()), method=self.name,
                         params={"n_clusters": int(sizes.size), "cluster_sizes": sizes[labels[indices]].tolist()})
