"""Diversify-and-Conquer cluster selection (kMQ with iterative refinement) and shared cluster helpers.

The helpers here (:func:`default_n_clusters`, :func:`allocate`, :func:`tempered`, :func:`gumbel_order`)
are used by the other cluster- and group-based selectors; k-means is :func:`quadiv.geometry.kmeans`.
"""
from __future__ import annotations

import math

import numpy as np

from quadiv.errors import UsageError
from quadiv.geometry import kmeans
from quadiv.select._base import Selection, Selector, register, unit_quality


def default_n_clusters(n: int, budget: int) -> int:
    """round(sqrt(n)), at most ``budget`` so that every cluster can receive an item, at least 1."""
    return int(max(1, min(budget, round(math.sqrt(n)))))


def allocate(total: int, weights: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Integer counts summing to ``total``, proportional to ``weights`` and capped by ``capacity``.

    Largest-remainder apportionment of ``total`` by ``weights``; a part whose capacity is reached keeps
    its capacity and the unused share is re-apportioned among the parts with room, in proportion to
    their weights (to all parts with room, equally, once no weighted part has room).
    Requires ``total <= capacity.sum()``.
    """
    weights = np.asarray(weights, dtype=np.float64)
    capacity = np.asarray(capacity, dtype=np.int64)
    counts = np.zeros(len(weights), dtype=np.int64)
    while (rest := int(total - counts.sum())) > 0:
        free = capacity - counts
        w = np.where(free > 0, weights, 0.0)
        if w.sum() <= 0:
            w = (free > 0).astype(np.float64)
        share = rest * w / w.sum()
        add = np.minimum(np.floor(share).astype(np.int64), free)
        if add.sum() == 0:
            frac = np.where((free > 0) & (w > 0), share - np.floor(share), -1.0)
            top = np.argsort(-frac, kind="stable")[: min(rest, int(np.sum(frac >= 0)))]
            add[top] = 1
        counts += add
    return counts


def tempered(x: np.ndarray, beta: float) -> np.ndarray:
    """exp(beta * (x - max x)), safe for beta = inf (then the indicator of the maxima)."""
    diff = np.asarray(x, dtype=np.float64) - np.max(x)
    with np.errstate(invalid="ignore"):
        return np.exp(np.where(diff == 0, 0.0, beta * diff))


def inverse_temperature(tradeoff: float, temperature: float) -> float:
    """beta = t / ((1 - t) * temperature): 0 at t = 0, 1/temperature at t = 0.5, inf at t = 1."""
    return math.inf if tradeoff >= 1 else tradeoff / ((1 - tradeoff) * temperature)


def gumbel_order(q: np.ndarray, beta: float, labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Items grouped by label; inside a label, a draw order of sampling without replacement p ~ exp(beta q).

    Gumbel-top-k: sorting by beta * q_i + g_i with g_i ~ Gumbel(0, 1) gives the order of successive
    draws without replacement with probabilities proportional to exp(beta * q_i). beta = inf sorts by
    quality (ties in random order).
    """
    g = rng.gumbel(size=len(q))
    if math.isinf(beta):
        order = np.lexsort((-g, -q))
    else:
        order = np.argsort(-(beta * q + g), kind="stable")
    return order[np.argsort(labels[order], kind="stable")]


def _start_weights(q: np.ndarray, labels: np.ndarray, k: int, budget: int, lam: float) -> np.ndarray:
    """w^0 = (1 - lam) / k + lam m / budget, m_j = cluster j's items among the ``budget`` best of q."""
    best = np.argsort(-q, kind="stable")[:budget]
    return (1.0 - lam) / k + lam * np.bincount(labels[best], minlength=k) / budget


def _round_sizes(budget: int, rounds: int) -> list[int]:
    base, extra = divmod(budget, rounds)
    return [base + (r < extra) for r in range(rounds) if base + (r < extra) > 0]


@register
class ClusterSelector(Selector):
    """Diversify-and-Conquer: k-means clusters, budget spread over clusters, weights refined by quality.

    kMQ (Yu et al. 2024, Sec. 3): cluster the pool with k-means; inside cluster j draw items without
    replacement with p(x) = exp(beta q(x)) / sum_{y in C_j} exp(beta q(y)) (the reference code's softmax
    over quality scores). Iterative refinement (Sec. 3.2, Algorithm 1): the budget is spent in
    ``rounds`` equal parts; cluster weights start uniform, w_j^0 = 1/k, each round's part is shared
    across clusters in proportion to w (largest remainder on the running deficit sum_r part_r w_j^r -
    taken_j so rounding evens out over rounds, capped by what a cluster has left, overflow
    re-apportioned) and after the round w_j <- w_j * exp(s_j / tau) / Z, where s_j is the cluster's
    training signal. The paper's s_j is the reward gap of the model's generations on cluster j; here
    s_j is the mean unit quality of the items taken from cluster j so far (clusters with none taken
    get the mean over all items taken, so their weight is not pushed either way).

    Trade-off, with T = ``temperature`` on [0, 1]-scaled quality: inside clusters beta = t / ((1 - t) T),
    across clusters 1 / tau = min(t, 1 - t) / T, and the first round's weights
    w_j^0 = (1 - lam) / k + lam m_j / budget with lam = max(0, 2t - 1) and m_j the number of cluster j's
    items among the ``budget`` best of the pool. t = 0: equal cluster shares and uniform draws inside
    clusters (a cluster-stratified random sample, diversity only). t = 0.5: exactly the paper's kMQ with
    iterative refinement (uniform start, temperature T inside clusters and 2T across them). t = 1: every
    cluster gets its share of the pool's best items and gives its best, so the selection is the
    top-quality set (quality only, as for every other method); between 0.5 and 1 the start moves from
    uniform to those shares while the refinement fades.
    The ramp above t = 0.5 is quadiv's: with the paper's method at t = 1 the budget stays spread over
    all clusters, and on GSM8K solutions (correctness labels) its Vendi at t = 1 was above that at t = 0.

    Paper: Simon Yu, Liangyu Chen, Sara Ahmadian, Marzieh Fadaee, "Diversify and Conquer:
    Diversity-Centric Data Selection with Iterative Refinement", 2024 (arXiv:2409.11378).
    """

    name = "cluster"
    engines = frozenset({"local", "ray"})  # on Ray the k-means assignment runs as tasks; the same picks

    def __init__(self, n_clusters: int | None = None, rounds: int = 4, temperature: float = 0.1):
        if n_clusters is not None and n_clusters < 1:
            raise UsageError(f"n_clusters must be at least 1, got {n_clusters}")
        if rounds < 1:
            raise UsageError(f"rounds must be at least 1, got {rounds}")
        if temperature <= 0:
            raise UsageError(f"temperature must be positive, got {temperature}")
        self.n_clusters, self.rounds, self.temperature = n_clusters, int(rounds), float(temperature)

    def _select(self, X, budget, quality, tradeoff, groups, seed, engine=None) -> Selection:
        n = X.shape[0]
        q = unit_quality(quality, n)
        beta = inverse_temperature(tradeoff, self.temperature)
        cluster_beta = min(tradeoff, 1.0 - tradeoff) / self.temperature
        labels, _ = kmeans(X, self.n_clusters or default_n_clusters(n, budget), seed, engine=engine)
        k = int(labels.max()) + 1
        sizes = np.bincount(labels, minlength=k)
        rng = np.random.default_rng(seed)
        order = gumbel_order(q, beta, labels, rng)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        taken = np.zeros(k, dtype=np.int64)
        weights = _start_weights(q, labels, k, budget, max(0.0, 2.0 * tradeoff - 1.0))
        target = np.zeros(k)
        chosen: list[np.ndarray] = []
        for part in _round_sizes(budget, self.rounds):
            target += part * weights
            counts = allocate(part, np.maximum(target - taken, 0.0), sizes - taken)
            for j in np.flatnonzero(counts):
                chosen.append(order[starts[j] + taken[j]: starts[j] + taken[j] + counts[j]])
            taken += counts
            weights = self._refine(weights, q, np.concatenate(chosen), labels, k, cluster_beta)
        indices = np.concatenate(chosen)
        return Selection(indices=indices, objective=float(q[indices].mean()), method=self.name,
                         params={"n_clusters": k, "rounds": self.rounds, "temperature": self.temperature,
                                 **({"engine": engine.name} if engine else {})})

    @staticmethod
    def _refine(weights, q, picked, labels, k, beta) -> np.ndarray:
        """w_j <- w_j exp(beta s_j) / Z, s_j the mean quality taken from cluster j so far (beta = 1 / tau)."""
        counts = np.bincount(labels[picked], minlength=k)
        sums = np.bincount(labels[picked], weights=q[picked], minlength=k)
        signal = np.where(counts > 0, sums / np.maximum(counts, 1), q[picked].mean())
        new = weights * tempered(signal, beta)
        if new.sum() <= 0:  # underflow after many sharp rounds: restart from the latest signal
            new = tempered(signal, beta)
        return new / new.sum()
