"""Maximal Marginal Relevance selection (Carbonell & Goldstein 1998)."""
from __future__ import annotations

import functools

import numpy as np

from quadiv.select._base import Selection, Selector, register, unit_quality
from quadiv.select._dpp import as_float
from quadiv.select._shards import open_shards, sharded_greedy


@register
class MMRSelector(Selector):
    """Maximal Marginal Relevance: repeatedly add the item with the best relevance-minus-redundancy score.

        next = argmax_{i not in S} [ lambda * rel_i - (1 - lambda) * max_{j in S} sim(i, j) ]

    with rel = unit quality (percentile ranks in [0, 1]), sim(i, j) = x_i . x_j (cosine for unit rows) and
    lambda = ``tradeoff`` (1 = relevance ranking, 0 = farthest-first in cosine similarity).
    Carbonell & Goldstein 1998, "The Use of MMR, Diversity-Based Reranking for Reordering Documents
    and Producing Summaries", SIGIR, Sec. 2 (the MMR formula). The first pick is the most relevant
    item (the max over an empty S is taken as 0); ties go to the lowest index.

    A running vector of each item's max similarity to S is updated with one matvec per pick:
    O(n d) time per step, O(n k d) in total, O(n) extra memory. ``objective`` is the sum of the MMR
    scores at pick time; ``gains`` holds each of them.
    """

    name = "mmr"
    engines = frozenset({"local", "ray"})  # the same picks on either

    def _select(self, X, budget, quality, tradeoff, groups, seed, engine=None) -> Selection:
        X = as_float(X)
        rel = unit_quality(quality, X.shape[0])
        first = int(np.argmax(rel))
        with open_shards(engine, X, [rel], functools.partial(MMRShard, tradeoff=tradeoff)) as shards:
            picks, gains, answers = sharded_greedy(shards, X.__getitem__, budget, first=(first, tradeoff * rel[first]))
        where = {"engine": engine.name, "shards": len(answers)} if engine else {}
        return Selection(
            indices=picks,
            objective=float(gains.sum()),
            method=self.name,
            params={"similarity": "cosine (dot product of rows)", **where},
            gains=gains,
        )


class MMRShard:
    """Rows of an MMR selection (see :mod:`quadiv.select._shards`): each row's max similarity to the picks."""

    def __init__(self, X: np.ndarray, rel: np.ndarray, tradeoff: float):
        self.X, self.rel, self.tradeoff = X, rel, tradeoff
        self.max_sim = np.full(len(X), -np.inf)
        self.taken = np.zeros(len(X), dtype=bool)

    def update(self, row: np.ndarray, picked: int | None) -> tuple[float, int, float]:
        """Take local row ``picked``, fold the picked ``row`` into max_sim; (best MMR score, its index, 0)."""
        if picked is not None:
            self.taken[picked] = True
        np.maximum(self.max_sim, self.X @ row, out=self.max_sim)
        score = self.tradeoff * self.rel - (1.0 - self.tradeoff) * self.max_sim
        score[self.taken] = -np.inf
        i = int(np.argmax(score))
        return float(score[i]), i, 0.0
