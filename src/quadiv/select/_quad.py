"""Quad: clusters as arms of a multi-armed bandit, pulled by an upper-confidence cluster score."""
from __future__ import annotations

import math

import numpy as np

from quadiv.errors import UsageError
from quadiv.geometry import kmeans
from quadiv.select._base import Selection, Selector, register, unit_quality
from quadiv.select._cluster import default_n_clusters


@register
class QuadSelector(Selector):
    """Quad: pick the cluster with the best upper-confidence score, take a batch from it, repeat.

    Cluster score (Zhang et al. 2025, Sec. 3.3, the UCB "Cluster Score"):
        CS_i = Ibar_i + alpha * sqrt(2 ln T / T_i),
    Ibar_i the mean reward observed on cluster i, T_i the number of times cluster i was pulled, T the
    total number of pulls. Quad's reward is the influence of a sampled mini-batch; here it is the mean
    unit quality of the items drawn. Each cluster is first probed once with a random mini-batch of
    ``probe_size`` items (looked at, not selected; T_i = 1, T = k), as Quad samples a few instances of
    a cluster to estimate its influence. Then each round pulls argmax_i CS_i over clusters with items
    left, takes the next ``batch_size`` items of that cluster (uniform random order inside a cluster, as
    in the reference code), and updates Ibar_i with their mean quality. The last batch is cut so that
    exactly ``budget`` items are taken. Left out: the paper's sharing of rewards with neighbouring
    clusters and its influence threshold for keeping a batch.

    Trade-off: the score used is t * Ibar_i + (1 - t) * c * sqrt(2 ln T / T_i) (c = ``exploration``),
    i.e. alpha = c (1 - t) / t. t = 0: pure exploration, the least-pulled cluster goes next (a
    round-robin, cluster-stratified random sample). t = 1: pure exploitation of the cluster with the
    best observed quality.

    Paper: Chi Zhang, Huaping Zhong, Kuan Zhang, Chengliang Chai, Rui Wang, Xinlin Zhuang, Tianyi Bai,
    Jiantao Qiu, Lei Cao, Ju Fan, Ye Yuan, Guoren Wang, Conghui He, "Harnessing Diversity for Important
    Data Selection in Pretraining Large Language Models", ICLR 2025 (arXiv:2409.16986).
    """

    name = "quad"
    engines = frozenset({"local", "ray"})  # on Ray the k-means assignment runs as tasks; the same picks

    def __init__(self, n_clusters: int | None = None, batch_size: int | None = None,
                 exploration: float = 1.0, probe_size: int = 10):
        for label, value in (("n_clusters", n_clusters), ("batch_size", batch_size), ("probe_size", probe_size)):
            if value is not None and value < 1:
                raise UsageError(f"{label} must be at least 1, got {value}")
        if exploration < 0:
            raise UsageError(f"exploration must be non-negative, got {exploration}")
        self.n_clusters, self.batch_size = n_clusters, batch_size
        self.exploration, self.probe_size = float(exploration), int(probe_size)

    def _select(self, X, budget, quality, tradeoff, groups, seed, engine=None) -> Selection:
        n = X.shape[0]
        q = unit_quality(quality, n)
        labels, _ = kmeans(X, self.n_clusters or default_n_clusters(n, budget), seed, engine=engine)
        k = int(labels.max()) + 1
        rng = np.random.default_rng(seed)
        members = [rng.permutation(np.flatnonzero(labels == j)) for j in range(k)]
        means = np.array([q[rng.choice(m, min(self.probe_size, len(m)), replace=False)].mean() for m in members])
        pulls = np.ones(k)
        taken = np.zeros(k, dtype=np.int64)
        batch = self.batch_size or max(1, budget // (4 * k))
        chosen: list[np.ndarray] = []
        remaining = budget
        while remaining > 0:
            j = self._pick(means, pulls, taken, members, tradeoff)
            items = members[j][taken[j]: taken[j] + min(batch, remaining)]
            means[j] = (means[j] * pulls[j] + q[items].mean()) / (pulls[j] + 1)
            pulls[j] += 1
            taken[j] += len(items)
            remaining -= len(items)
            chosen.append(items)
        indices = np.concatenate(chosen)
        return Selection(indices=indices, objective=float(q[indices].mean()), method=self.name,
                         params={"n_clusters": k, "batch_size": batch, "exploration": self.exploration,
                                 "probe_size": self.probe_size, **({"engine": engine.name} if engine else {})})

    def _pick(self, means, pulls, taken, members, tradeoff) -> int:
        """argmax of t * Ibar_i + (1 - t) * c * sqrt(2 ln T / T_i) over clusters with items left."""
        bonus = np.sqrt(2.0 * math.log(pulls.sum()) / pulls)
        score = tradeoff * means + (1.0 - tradeoff) * self.exploration * bonus
        left = np.array([len(m) for m in members]) - taken
        return int(np.argmax(np.where(left > 0, score, -np.inf)))
