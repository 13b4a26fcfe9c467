"""``DarlingReward``: DARLING's partition diversity reward, combined with quality, as a TRL reward function.

Li et al. 2025 (arXiv 2509.02534, sec. 3.2, Eq. 3-4; released scripts ``reward_manager=diversity``): for
a group of n completions of one prompt partitioned into equivalence classes,

    div_i = max(floor, (n - |C(i)|) / (n - 1)),   floor = 0.1,

the share of the other completions that say something different. Combined with a quality reward q:
``multiply`` (the released default) r_i = q_i * div_i, optionally with q shifted by the group minimum
(``add_bias``) so that q >= 0; or ``zscore``: each reward standardised within its group, then
w_q * z(q)_i + w_d * z(div)_i. ``correct``: the partition among correct answers only (the paper's math
variant): a function (prompt, completion, **columns) -> bool; an incorrect completion gets div = 0.
DARLING trains with ``scale_rewards`` off (TRL: ``GRPOConfig(scale_rewards="none")``).
A group of one completion has nothing to differ from: its div is 1.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from quadiv.errors import UsageError
from quadiv.rewards._base import GroupReward, as_quality, zscore
from quadiv.rewards._group import Batch
from quadiv.rewards._partition import ClassifierEquivalence, EmbeddingEquivalence, JudgeEquivalence, partition

EQUIVALENCES = ("embedding", "classifier", "judge")
COMBINES = ("multiply", "zscore")


def darling_diversity(sizes: np.ndarray, floor: float = 0.1) -> np.ndarray:
    """div_i = max(floor, (n - |C(i)|) / (n - 1)) from the class sizes of one group; 1 for a group of one."""
    n = len(sizes)
    if n == 1:
        return np.ones(1)
    return np.maximum(floor, (n - np.asarray(sizes, dtype=np.float64)) / (n - 1))


class DarlingReward(GroupReward):
    """DARLING: quality times the share of the group that says something else (TRL reward function).

    Parameters:
        equivalence: how two long completions are judged the same: embedding (cosine >= threshold),
            classifier (a sequence-classification model directory, ``classifier``) or judge (an LLM,
            ``judge`` names the model).
        threshold: the cosine similarity above which the embedding equivalence calls two completions the same.
        classifier: the pair classifier's model directory (equivalence classifier).
        judge: the judge model (equivalence judge); ``judge_params`` go to ``judge:<model>`` (base_url, ...).
        quality: a quadiv scorer or its name, or a TRL reward function; None: the diversity alone.
        combine: multiply (q * div, DARLING's default) or zscore (w_q z(q) + w_d z(div) within the group).
        add_bias: with multiply, subtract the group's minimum quality first, so that q >= 0.
        weights: (w_q, w_d) of the zscore combination.
        floor: the least diversity reward.
        correct: a function (prompt, completion, **columns) -> bool: partition among correct answers only.
        embedder: the quadiv embedder of the embedding equivalence and of the logged Vendi score.
    """

    name = "darling"

    def __init__(self, equivalence: str = "embedding", threshold: float = 0.9, classifier: str | None = None,
                 judge: str | None = None, judge_params: dict[str, Any] | None = None, quality: Any = None,
                 combine: str = "multiply", add_bias: bool = False, weights: tuple[float, float] = (1.0, 1.0),
                 floor: float = 0.1, correct: Callable[..., bool] | None = None, embedder: Any = "static",
                 gather: Any = "auto", log_metrics: bool = True):
        super().__init__(embedder, gather, log_metrics)
        if equivalence not in EQUIVALENCES or combine not in COMBINES:
            raise UsageError(f"`equivalence` must be one of {', '.join(EQUIVALENCES)} and `combine` one of "
                             f"{', '.join(COMBINES)}; got '{equivalence}' and '{combine}'")
        if not 0 <= floor <= 1:
            raise UsageError(f"`floor` must be in [0, 1]; got {floor}")
        if equivalence == "classifier":
            if classifier is None:
                raise UsageError("equivalence 'classifier' needs `classifier`, a sequence-classification model dir")
            self.equivalence = ClassifierEquivalence(classifier)
        elif equivalence == "judge":
            if judge is None:
                raise UsageError("equivalence 'judge' needs `judge`, the judge model's name")
            self.equivalence = JudgeEquivalence(judge, **(judge_params or {}))
        else:
            self.equivalence = EmbeddingEquivalence(self.embed, threshold)
        self.uses_embeddings = equivalence == "embedding"
        self.quality, self.combine, self.add_bias = as_quality(quality), combine, add_bias
        self.weights, self.floor, self.correct = weights, floor, correct

    def diversity(self, batch: Batch) -> np.ndarray:
        """div_i of every completion, group by group."""
        if self.uses_embeddings:
            batch.embeddings = self.embed(batch.texts)
        div = np.zeros(len(batch.texts))
        for g in batch.groups:
            members = g
            if self.correct is not None:
                ok = [bool(self.correct(batch.prompts[i], batch.completions[i],
                                        **{k: v[i] for k, v in batch.columns.items()})) for i in g]
                members = g[np.asarray(ok, dtype=bool)]
            if len(members) == 0:
                continue
            X = batch.embeddings[members] if self.uses_embeddings else None
            sizes = partition([batch.texts[i] for i in members], self.equivalence, X)
            div[members] = darling_diversity(sizes, self.floor)
        return div

    def rewards(self, batch: Batch, kwargs: dict[str, Any]) -> np.ndarray:
        div = self.diversity(batch)
        if self.quality is None:
            return div
        q = self.quality(batch, kwargs)
        if self.combine == "zscore":
            return self.weights[0] * zscore(q, batch.groups) + self.weights[1] * zscore(div, batch.groups)
        if self.add_bias:
            q = q.copy()
            for g in batch.groups:
                q[g] -= np.nanmin(q[g])
        return q * div
