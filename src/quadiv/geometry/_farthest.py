"""Farthest-point greedy: repeatedly take the item whose distance to the picks so far scores best."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np


def euclidean_to(X: np.ndarray) -> Callable[[int], np.ndarray]:
    """The function i -> (||x_j - x_i||_2)_j over the rows j of X: sqrt(|x_j|^2 + |x_i|^2 - 2 x_j . x_i)."""
    sq = np.einsum("ij,ij->i", X, X)
    return lambda i: np.sqrt(np.maximum(sq + sq[i] - 2.0 * (X @ X[i]), 0.0))


def farthest_point_greedy(
    distance_to: Callable[[int], np.ndarray], score: Callable[[np.ndarray], np.ndarray], n: int, budget: int,
    *, start: float = 2.0, first: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``budget`` picks among n items, each the unpicked argmax of score(d); returns (picks, scores, d).

    d_j = min_{s in S} dist(j, s) is item j's distance to the picks S so far (``distance_to(s)`` gives
    dist(., s)), and ``start`` for every item before the first pick; ``first``, when given, is the
    first pick. With score(d) = d this is Gonzalez's farthest-first traversal (T. F. Gonzalez 1985,
    "Clustering to minimize the maximum intercluster distance", Theoret. Comput. Sci. 38), the
    2-approximation of k-center; weighted or quality-augmented scores give its variants. ``scores``
    holds each pick's score when it was taken, ``d`` the distances to the final picks (so d.max() is
    the covering radius). Ties go to the lowest index.
    """
    d = np.full(n, float(start))
    taken = np.zeros(n, dtype=bool)
    picks, scores = np.empty(budget, dtype=np.int64), np.empty(budget)
    for step in range(budget):
        s = score(d)
        if step == 0 and first is not None:
            i = int(first)
        else:
            s = np.where(taken, -np.inf, s)
            i = int(np.argmax(s))
        picks[step], scores[step], taken[i] = i, s[i], True
        to_i = distance_to(i)
        d = to_i if step == 0 else np.minimum(d, to_i)
    return picks, scores, d


def chord_to(X: np.ndarray, x: np.ndarray) -> np.ndarray:
    """||x_j - x||_2 = sqrt(2 - 2 x_j . x) over unit rows x_j, float64, at most 2 (the sphere's diameter)."""
    return np.minimum(np.sqrt(np.maximum(2.0 - 2.0 * (X @ x).astype(np.float64), 0.0)), 2.0)


class FarthestShard:
    """Rows [lo, hi) (at least one) of a farthest-first traversal over unit rows: their distances to the picks so far.

    :func:`farthest_point_greedy` with ``distance_to = lambda i: chord_to(X, X[i])`` and
    ``score = lambda d: score(d, weights)`` takes at each step the argmax over all rows; the argmax over
    the shards' own ``best`` answers (ties to the lowest index, shards in row order) is the same item,
    because each row's distance and score are computed by the same elementwise expressions. So a
    cluster holding one shard per worker makes the one-process picks; only the new pick's row travels.
    """

    def __init__(self, X: np.ndarray, weights: np.ndarray,
                 score: Callable[[np.ndarray, np.ndarray], np.ndarray], start: float = 2.0):
        self.X, self.weights, self.score = X, weights, score
        self.d = np.full(len(X), float(start))
        self.taken = np.zeros(len(X), dtype=bool)
        self._first = True

    def update(self, center: np.ndarray | None, picked: int | None) -> tuple[float, int, float]:
        """Mark local row ``picked`` taken, add ``center`` to the picks; (best score, its local index, max d)."""
        if picked is not None:
            self.taken[picked] = True
        if center is not None:
            to_center = chord_to(self.X, center)
            self.d = to_center if self._first else np.minimum(self.d, to_center)
            self._first = False
        s = np.where(self.taken, -np.inf, self.score(self.d, self.weights))
        i = int(np.argmax(s))
        return float(s[i]), i, float(self.d.max())
