"""D3: greedy selection for a weighted coreset objective over diversity, difficulty and dependability."""
from __future__ import annotations

import numpy as np

from quadiv.errors import UsageError
from quadiv.geometry import FarthestShard
from quadiv.select._base import Selection, Selector, min_max, register
from quadiv.select._shards import open_shards, sharded_greedy

_FLOOR = 1e-3  # keeps log w finite for the item with the lowest value


def sample_value(difficulty: np.ndarray, dependability: np.ndarray, difficulty_weight: float) -> np.ndarray:
    """v(x) = a * difficulty(x) + (1 - a) * dependability(x), both min-max scaled to [0, 1]."""
    return difficulty_weight * min_max(difficulty) + (1 - difficulty_weight) * min_max(dependability)


def _log_cover_score(d: np.ndarray, log_weight: np.ndarray) -> np.ndarray:
    """log(w(x) d(x, S)) = log w(x) + log d(x, S): the greedy's score (a module function, so that a Ray
    worker can unpickle it)."""
    with np.errstate(divide="ignore"):
        return log_weight + np.log(d)


class CoverShard(FarthestShard):
    """Rows of D3's greedy (see :mod:`quadiv.select._shards`): farthest-first by log w(x) + log d(x, S)
    from d = 1, answering with the weighted covering radius max_x v'(x) d(x, S) of its rows."""

    def __init__(self, X: np.ndarray, log_weight: np.ndarray, value: np.ndarray):
        super().__init__(X, log_weight, _log_cover_score, start=1.0)
        self.value = value

    def update(self, center: np.ndarray | None, picked: int | None) -> tuple[float, int, float]:
        score, i, _ = super().update(center, picked)
        return score, i, float(np.max(self.value * self.d))


@register
class D3Selector(Selector):
    """D3: greedy weighted coreset; weight from difficulty and dependability, coverage from distances.

    D3 (Zhang et al. 2025, Sec. 3) scores each sample on diversity (its distance to the selected set),
    difficulty and dependability, and selects by the D3 weighted coreset objective (Sec. 3.3): a
    k-center coreset whose covering distances are weighted by the sample value,
        min_{|S| = k} max_{x in D} w(x) * min_{s in S} ||e(x) - e(s)||,
    solved greedily: repeatedly add argmax_x w(x) * d(x, S). Diversity is d(x, S); the sample value is
    v(x) = a * difficulty + (1 - a) * dependability (a = ``difficulty_weight``, both min-max scaled).
    D3 estimates difficulty with the model's uncertainty and dependability with an external LLM judge;
    here both are given as arrays (``select(..., difficulty=, dependability=)``) and default to the quality column when not
    given, so by default v = min-max scaled quality. The paper's multi-round loop (re-scoring with the model
    trained on the previous selection) is left out: one round.

    Trade-off: w(x) = (v(x) + 1e-3)^(t / (1 - t)). t = 0: w = 1, plain k-center greedy (diversity
    only); t = 0.5: w = v, the paper's weighted objective; t = 1: the ``budget`` items of largest v.
    ``objective`` is the paper's weighted covering radius max_x (v(x) + 1e-3) d(x, S) of the result,
    the same weights for every t so that results compare (lower is better).

    Paper: Jia Zhang, Chen-Xi Zhang, Yao Liu, Yi-Xuan Jin, Xiao-Wen Yang, Bo Zheng, Yi Liu, Lan-Zhe Guo,
    "D3: Diversity, Difficulty, and Dependability-Aware Data Selection for Sample-Efficient LLM
    Instruction Tuning", IJCAI 2025 (arXiv:2503.11441).
    """

    name = "d3"
    engines = frozenset({"local", "ray"})  # the same picks on either (farthest-first over shards)
    higher_is_better = False  # the objective is a covering radius
    data_names = ("difficulty", "dependability")  # per-row arrays, given to select()

    def __init__(self, difficulty_weight: float = 0.5):
        if not 0.0 <= difficulty_weight <= 1.0:
            raise UsageError(f"difficulty_weight must lie in [0, 1], got {difficulty_weight}")
        self.difficulty_weight = float(difficulty_weight)

    def _select(self, X, budget, quality, tradeoff, groups, seed, difficulty=None, dependability=None,
                engine=None) -> Selection:
        n = X.shape[0]
        fallback = np.ones(n) if quality is None else quality
        value = sample_value(self._column(difficulty, fallback, "difficulty"),
                             self._column(dependability, fallback, "dependability"), self.difficulty_weight)
        where = {"engine": engine.name} if engine else {}
        if tradeoff >= 1:
            picks = np.argsort(-value, kind="stable")[:budget]
            gains = value[picks]
            objective = covering_radius(np.asarray(X, dtype=np.float64), picks, value + _FLOOR)
        else:
            log_weight = tradeoff / (1.0 - tradeoff) * np.log(value + _FLOOR)
            with open_shards(engine, X, [log_weight, value + _FLOOR], CoverShard) as shards:
                picks, log_gains, answers = sharded_greedy(shards, X.__getitem__, budget)
            gains = np.exp(np.minimum(log_gains, 700.0))
            objective = max(answer[2] for answer in answers)
            where = {**where, "shards": len(answers)} if engine else {}
        return Selection(indices=picks, objective=objective, method=self.name,
                         params={"difficulty_weight": self.difficulty_weight, **where}, gains=gains)

    @staticmethod
    def _column(values: np.ndarray | None, fallback: np.ndarray, label: str) -> np.ndarray:
        if values is None:
            return fallback
        values = np.asarray(values, dtype=np.float64)
        if values.shape != fallback.shape or not np.all(np.isfinite(values)):
            raise UsageError(f"{label} must hold one finite value per item ({len(fallback)}), got shape {values.shape}")
        return values


def covering_radius(X: np.ndarray, picks: np.ndarray, weight: np.ndarray, chunk: int = 4096) -> float:
    """max_x w(x) * min_{s in S} ||x - s||, computed in row chunks."""
    S = X[picks]
    s_sq = np.einsum("ij,ij->i", S, S)
    worst = 0.0
    for start in range(0, len(X), chunk):
        block = X[start: start + chunk]
        d2 = np.einsum("ij,ij->i", block, block)[:, None] + s_sq[None, :] - 2.0 * block @ S.T
        dist = np.sqrt(np.maximum(d2.min(axis=1), 0.0))
        worst = max(worst, float(np.max(weight[start: start + chunk] * dist)))
    return worst
