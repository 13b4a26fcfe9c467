"""Maximal Marginal Relevance selection (Carbonell & Goldstein 1998)."""
from __future__ import annotations

import numpy as np

from quadiv.select._base import Selection, Selector, register, unit_quality
from quadiv.select._dpp import as_float


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

    def _select(self, X, budget, quality, tradeoff, groups, seed) -> Selection:
        X = as_float(X)
        rel = unit_quality(quality, X.shape[0])
        j = int(np.argmax(rel))
        picks, gains = [j], [tradeoff * rel[j]]
        max_sim = np.full(X.shape[0], -np.inf)
        while len(picks) < budget:
            np.maximum(max_sim, X @ X[j], out=max_sim)
            score = tradeoff * rel - (1.0 - tradeoff) * max_sim
            score[picks] = -np.inf
            j = int(np.argmax(score))
            picks.append(j)
            gains.append(score[j])
        gains = np.asarray(gains, dtype=np.float64)
        return Selection(
            indices=np.asarray(picks, dtype=np.int64),
            objective=float(gains.sum()),
            method=self.name,
            params={"similarity": "cosine (dot product of rows)"},
            gains=gains,
        )
