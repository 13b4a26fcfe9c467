"""``PairwiseDiversityReward``: mean embedding distance to the rest of the group, as a TRL reward function.

Diversity-rewarded CFG distillation (Cideron et al. 2025, ICLR, arXiv 2410.06084, sec. 3.2): for two
generations of one prompt, r_div = 1 - cos(E(y_1), E(y_2)). For a group of n, completion i gets the
mean over the others: r_i = (1 / (n - 1)) sum_{j != i} (1 - cos(E(y_i), E(y_j))), from one n x n Gram
matrix of unit rows per group. A group of one gets None (TRL ignores it).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from quadiv.rewards._base import GroupReward
from quadiv.rewards._group import Batch


def pairwise_diversity(X: np.ndarray) -> np.ndarray:
    """r_i = mean_{j != i} (1 - x_i . x_j) for unit rows X (n >= 2)."""
    n = len(X)
    similarity = X @ X.T
    return 1.0 - (similarity.sum(axis=1) - np.diag(similarity)) / (n - 1)


class PairwiseDiversityReward(GroupReward):
    """1 - cosine similarity to the other completions of the prompt, averaged (TRL reward function).

    Parameters:
        embedder: any quadiv embedder (a name such as static, minilm, st:<path>, or an Embedder object).
    """

    name = "pairwise_diversity"

    def __init__(self, embedder: Any = "static", gather: Any = "auto", log_metrics: bool = True):
        super().__init__(embedder, gather, log_metrics)

    def rewards(self, batch: Batch, kwargs: dict[str, Any]) -> np.ndarray:
        batch.embeddings = X = self.embed(batch.texts).astype(np.float64)
        out = np.full(len(X), np.nan)
        for g in batch.groups:
            if len(g) > 1:
                out[g] = pairwise_diversity(X[g])
        return out
