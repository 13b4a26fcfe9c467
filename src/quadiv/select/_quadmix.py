"""QuaDMix: merged quality, per-domain quality rank and a sigmoid-shaped per-domain sampling function."""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from quadiv.errors import UsageError
from quadiv.geometry import kmeans
from quadiv.select._base import Selection, Selector, min_max, register
from quadiv.select._cluster import default_n_clusters

PerDomain = float | Mapping


def merged_quality(criteria: np.ndarray, domains: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Eq. (1): qbar_x = sum_n alpha_{d_x, n} * sigma(q_{x, n}), sigma = min-max scaling over the pool.

    ``criteria`` is (n, N), ``domains`` holds domain indices 0..M-1, ``alpha`` is (M, N).
    """
    scaled = np.column_stack([min_max(criteria[:, j]) for j in range(criteria.shape[1])])
    return np.einsum("ij,ij->i", scaled, alpha[domains])


def quality_rank(merged: np.ndarray, domains: np.ndarray) -> np.ndarray:
    """Eq. (2): rbar_x = |{y : d_y = d_x, qbar_y >= qbar_x}| / |{y : d_y = d_x}|; 0 is best, 1 worst."""
    ranks = np.empty(len(merged))
    for m in np.unique(domains):
        idx = np.flatnonzero(domains == m)
        values = np.sort(merged[idx])
        ranks[idx] = (len(idx) - np.searchsorted(values, merged[idx], side="left")) / len(idx)
    return ranks


def log_sampling_value(rank: np.ndarray, lam: np.ndarray, omega: np.ndarray, eta: np.ndarray,
                       epsilon: float) -> np.ndarray:
    """log of Eq. (3): S(r) = (2 / (1 + exp(-lambda (omega - r))))^eta + eps if r <= omega, else eps.

    Parameters are given per item (already looked up from the item's domain).
    """
    log_sig = math.log(2.0) - np.logaddexp(0.0, -lam * (omega - rank))
    log_eps = math.log(epsilon) if epsilon > 0 else -np.inf
    return np.where(rank <= omega, np.logaddexp(eta * log_sig, log_eps), log_eps)


def inclusion_probabilities(log_weight: np.ndarray, budget: int) -> np.ndarray:
    """pi_i = min(1, c * w_i) with c chosen so that sum_i pi_i = budget (w given as log w).

    Sorted solution: with w in decreasing order, the first m items are capped at 1 and
    c = (budget - m) / sum_{i >= m} w_i for the smallest m with c * w_m <= 1. Weights that underflow to
    zero (a very sharp tempering) are taken in decreasing order of log w, the limit of the rule.
    """
    n = len(log_weight)
    order = np.argsort(-log_weight, kind="stable")
    top = log_weight[order[0]]
    w = np.exp(log_weight[order] - top) if np.isfinite(top) else np.ones(n)
    suffix = np.cumsum(w[::-1])[::-1]
    m = np.arange(budget)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = (budget - m) / suffix[m]
        ok = (suffix[m] > 0) & (c * w[m] <= 1.0 + 1e-12)
    pi_sorted = np.zeros(n)
    if ok.any():
        first = int(np.argmax(ok))
        pi_sorted[:first] = 1.0
        pi_sorted[first:] = np.minimum(1.0, c[first] * w[first:])
    else:
        pi_sorted[:budget] = 1.0
    pi = np.empty(n)
    pi[order] = pi_sorted
    return pi


def systematic_sample(pi: np.ndarray, budget: int, rng: np.random.Generator) -> np.ndarray:
    """Exactly ``budget`` distinct items, item i included with probability pi_i (Madow's systematic pps).

    Items are put in random order, their pi laid end to end on [0, budget), and the points u + j
    (u ~ U[0, 1), j = 0..budget-1) pick the items they fall on. Floating-point slack is topped up with
    the highest-pi items not yet taken.
    """
    perm = rng.permutation(len(pi))
    cum = np.cumsum(pi[perm])
    cum *= budget / cum[-1]
    hits = np.minimum(np.searchsorted(cum, rng.uniform() + np.arange(budget), side="right"), len(pi) - 1)
    picked = perm[np.unique(hits)]
    if len(picked) < budget:
        by_pi = np.argsort(-pi, kind="stable")
        rest = by_pi[~np.isin(by_pi, picked)]
        picked = np.concatenate([picked, rest[: budget - len(picked)]])
    return picked


def _per_domain(value: PerDomain, names: np.ndarray, label: str) -> np.ndarray:
    """A scalar, or a mapping {domain: value} covering every domain, as one value per domain index."""
    if not isinstance(value, Mapping):
        return np.full(len(names), float(value))
    missing = [str(name) for name in names if name not in value]
    if missing:
        raise UsageError(f"{label} has no value for domain(s) {', '.join(missing[:5])}: give one per domain")
    return np.array([float(value[name]) for name in names])


@register
class QuaDMixSelector(Selector):
    """QuaDMix: sample items with a per-domain sigmoid function of their merged-quality rank.

    Pipeline (Liu et al. 2025, Sec. 3):
      Eq. (1) merged quality  qbar = sum_n alpha_{m,n} sigma(q_n)  (sigma = min-max scaling; criteria =
              ``quality`` plus the columns of ``select(..., extra_quality=)``; alpha = ``merge_weights``, one weight
              per criterion, shared or per domain; default equal weights),
      Eq. (2) quality rank    rbar = share of the item's domain with merged quality >= its own,
      Eq. (3) sampling value  S(rbar) = (2 / (1 + exp(-lambda_m (omega_m - rbar))))^eta_m + eps for
              rbar <= omega_m, eps otherwise.
    Domains are ``groups`` or, when None, k-means clusters (``n_domains``). lambda (``lam``), omega,
    eta may be scalars or mappings {domain: value}: per-domain omega and eta set how much of each
    domain is kept and how strongly it is up-sampled, which is how QuaDMix sets the domain mixture.
    QuaDMix searches these parameters with proxy models and a LightGBM regressor; here they are given.

    Exact budget: S is an expected sampling frequency. Items are drawn without repetition with
    inclusion probabilities pi_i = min(1, c S_i), c fixed so that sum pi = budget, by systematic
    sampling, which returns exactly ``budget`` items.

    Trade-off: the sampling function is tempered, S_t = S^(t / (1 - t)). t = 0.5 is the paper's
    function; t = 0 gives S_t = 1, a uniform random sample (domains kept in their pool proportions);
    t = 1 keeps the ``budget`` items with the largest S (ties in random order).

    Paper: Fengze Liu, Weidong Zhou, Binbin Liu, Zhimiao Yu, Yifan Zhang, Haobin Lin, Yifeng Yu,
    Bingni Zhang, Xiaohuan Zhou, Taifeng Wang, Yong Cao, "QuaDMix: Quality-Diversity Balanced Data
    Selection for Efficient LLM Pretraining", 2025 (arXiv:2504.16511), Eqs. (1)-(3).
    """

    name = "quadmix"
    engines = frozenset({"local", "ray"})  # on Ray the k-means assignment runs as tasks; the same picks
    data_names = ("extra_quality",)  # (n, N) more quality criteria, given to select()

    def __init__(self, lam: PerDomain = 10.0, omega: PerDomain = 0.5, eta: PerDomain = 1.0,
                 epsilon: float = 1e-3, merge_weights: Sequence[float] | Mapping | None = None,
                 n_domains: int | None = None):
        if epsilon < 0:
            raise UsageError(f"epsilon must be non-negative, got {epsilon}")
        if n_domains is not None and n_domains < 1:
            raise UsageError(f"n_domains must be at least 1, got {n_domains}")
        self.lam, self.omega, self.eta, self.epsilon = lam, omega, eta, float(epsilon)
        self.merge_weights, self.n_domains = merge_weights, n_domains

    def _select(self, X, budget, quality, tradeoff, groups, seed, extra_quality=None, engine=None) -> Selection:
        n = X.shape[0]
        if groups is None:
            groups, _ = kmeans(X, self.n_domains or default_n_clusters(n, budget), seed, engine=engine)
        names, domains = np.unique(groups, return_inverse=True)
        criteria = self._criteria(quality, n, extra_quality)
        merged = merged_quality(criteria, domains, self._alpha(names, criteria.shape[1]))
        rank = quality_rank(merged, domains)
        log_s = log_sampling_value(rank, *(_per_domain(v, names, label)[domains] for v, label in
                                           ((self.lam, "lam"), (self.omega, "omega"), (self.eta, "eta"))),
                                   self.epsilon)
        rng = np.random.default_rng(seed)
        if tradeoff >= 1:
            indices = np.lexsort((rng.random(n), -log_s))[:budget]
        else:
            pi = inclusion_probabilities(tradeoff / (1.0 - tradeoff) * log_s, budget)
            indices = systematic_sample(pi, budget, rng)
        return Selection(indices=indices, objective=float(merged[indices].mean()), method=self.name,
                         params={"lam": self.lam, "omega": self.omega, "eta": self.eta, "epsilon": self.epsilon,
                                 "n_domains": len(names), **({"engine": engine.name} if engine else {})})

    @staticmethod
    def _criteria(quality: np.ndarray | None, n: int, extra_quality: np.ndarray | None) -> np.ndarray:
        main = np.ones(n) if quality is None else quality
        if extra_quality is None:
            return main[:, None]
        extra_quality = np.asarray(extra_quality, dtype=np.float64)
        extra = extra_quality.reshape(n, -1) if extra_quality.size == n else extra_quality
        if extra.shape[0] != n or not np.all(np.isfinite(extra)):
            raise UsageError(f"extra_quality must be a finite (n, N) array with n = {n}, got shape {extra.shape}")
        return np.column_stack([main, extra])

    def _alpha(self, names: np.ndarray, n_criteria: int) -> np.ndarray:
        """Merging weights alpha as an (M, N) array: equal by default, shared or one row per domain."""
        if self.merge_weights is None:
            return np.full((len(names), n_criteria), 1.0 / n_criteria)
        if isinstance(self.merge_weights, Mapping):
            rows = [self.merge_weights.get(name) for name in names]
            if any(r is None for r in rows):
                raise UsageError("merge_weights as a mapping needs one entry per domain; "
                                 f"domains are: {', '.join(map(str, names[:10]))}")
        else:
            rows = [self.merge_weights] * len(names)
        alpha = np.array([np.asarray(r, dtype=np.float64) for r in rows])
        if alpha.shape != (len(names), n_criteria):
            raise UsageError(f"merge_weights needs {n_criteria} weight(s) per domain (one per quality criterion), "
                             f"got shape {alpha.shape[1:]}")
        return alpha
