"""Quality-quantity planning: which share of a pool to keep for a training budget, when kept data repeats.

Goyal, Maini, Lipton, Raghunathan and Kolter 2024, "Scaling Laws for Data Filtering -- Data Curation
cannot be Compute Agnostic", CVPR (arXiv:2404.07177), Sec. 3, as their released code computes it
(locuslab/scaling_laws_data_filtering, ``objective.func_effective_utility_aggregation``):

- A data bucket of utility b < 0 drives the error down as y = (a n)^b after n samples, i.e.
  dy/dn = b y / n.
- Repetition: in its k-th pass (k = 0, 1, ...) a bucket's utility decays to b_k = b * 0.5^(k / tau),
  tau being its half-life in repetitions.
- A mixture of buckets seen together has the average decayed utility of its parts in each pass,
  b_eff,k = sum_j w_j b_j 0.5^(k / tau_j) (w_j the share of bucket j; equal shares in the paper).
- Over passes with cumulative sample counts n_0 < n_1 < ... (n_k = min((k + 1) T, budget) for a kept
  pool of T tokens): y = (a n_0)^(b_eff,0) * prod_{k >= 1} (n_k / n_(k-1))^(b_eff,k). (The released
  code also multiplies its irreducible error d by the product; here y is the reducible error alone.)

Keeping only the top-quality buckets raises the utility of the first pass but forces more passes
over the same data; :func:`plan_quality_quantity` evaluates y for every top-p threshold and recommends
the one with the lowest predicted error. The error's scale is that of the law: only comparisons
between thresholds at the same budget are meaningful.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from quadiv.errors import UsageError

TOP_BUCKET_UTILITY = -0.16  # b of the top-10% bucket in the paper's released DataComp fit
DEFAULT_HALF_LIFE = 5.0  # repetitions; the released fits lie between 2.3 and 8.5
_MAX_HALF_LIVES = 64
SCALE_SHARE = 0.3125  # 1/a as a share of the pool: 4 M samples for the 12.8 M-sample DataComp pool


def plan_quality_quantity(
    quality: np.ndarray,
    token_budget: float,
    tokens_per_item: float | np.ndarray = 1,
    *,
    n_buckets: int = 10,
    utility: Sequence[float] | None = None,
    half_life: float | Sequence[float] = DEFAULT_HALF_LIFE,
    scale_tokens: float | None = None,
) -> dict:
    """Predicted error of training on the top-p share of a pool for every p = 1/B, 2/B, ..., 1.

    Items are ranked by ``quality`` (higher is better) and cut into ``n_buckets`` buckets of equal item
    counts, best first. Bucket j has utility b_j (``utility``, best first; default: proportional to the
    bucket's mean min-max-scaled quality, b_j = -0.16 q_j / q_1, the paper's top-bucket value scaled
    down for worse buckets) and half-life tau_j (``half_life``). Keeping the top m buckets (T tokens)
    and training on ``token_budget`` tokens, the error follows the module's law with token shares
    w_j = T_j / T and 1/a = ``scale_tokens`` (default 0.3125 of the pool's tokens, the paper's ratio;
    the budget must exceed it, since below 1/a the law ranks low-utility data first).
    Returns the per-threshold table and ``"best"``, the threshold of lowest predicted error.
    """
    q = np.asarray(quality, dtype=np.float64)
    if q.ndim != 1 or q.size < n_buckets or not np.all(np.isfinite(q)):
        raise UsageError(f"quality must be finite scores for at least n_buckets={n_buckets} items, "
                         f"got shape {q.shape}")
    tokens = np.broadcast_to(np.asarray(tokens_per_item, dtype=np.float64), q.shape)
    if np.any(tokens <= 0) or not np.all(np.isfinite(tokens)) or not token_budget > 0:
        raise UsageError("tokens_per_item and token_budget must be positive and finite")
    order = np.argsort(-q, kind="stable")
    buckets = np.array_split(order, n_buckets)
    bucket_tokens = np.array([tokens[b].sum() for b in buckets])
    b = _utilities(q, buckets, utility)
    tau = np.broadcast_to(np.asarray(half_life, dtype=np.float64), (n_buckets,))
    if np.any(tau <= 0):
        raise UsageError(f"half-lives must be positive, got {list(tau)}")
    scale = SCALE_SHARE * bucket_tokens.sum() if scale_tokens is None else float(scale_tokens)
    if not 0 < scale < token_budget:
        raise UsageError(f"token_budget {token_budget:g} must exceed scale_tokens {scale:g} (1/a, where every "
                         "bucket's error curve starts at 1): pass a smaller scale_tokens")
    kept = np.cumsum(bucket_tokens)
    error = np.array([repeated_error(bucket_tokens[:m] / kept[m - 1], b[:m], tau[:m], kept[m - 1],
                                     token_budget, scale) for m in range(1, n_buckets + 1)])
    best = int(np.argmin(error))
    counts = np.cumsum([len(bk) for bk in buckets])
    thresholds = [float(q[bk].min()) for bk in buckets]
    table = {"fraction": (counts / q.size).tolist(), "quality_threshold": thresholds,
             "kept_items": counts.tolist(), "kept_tokens": kept.tolist(), "epochs": (token_budget / kept).tolist(),
             "error": error.tolist()}
    return {"token_budget": float(token_budget), "scale_tokens": scale,
            "buckets": {"utility": b.tolist(), "half_life": tau.tolist(), "tokens": bucket_tokens.tolist()},
            "thresholds": table, "best": {k: v[best] for k, v in table.items()} | {"index": best}}


def repeated_error(shares: np.ndarray, utility: np.ndarray, half_life: np.ndarray, pool_tokens: float,
                   budget: float, scale_tokens: float) -> float:
    """y = (n_0 / s)^(b_eff,0) prod_{k>=1} (n_k / n_(k-1))^(b_eff,k), n_k = min((k+1) T, budget).

    b_eff,k = sum_j shares_j utility_j 0.5^(k / half_life_j); s = 1/a = ``scale_tokens``; T = ``pool_tokens``.
    Passes after 64 half-lives (utility below 5e-20 b) are dropped, so huge budgets cost O(tau) work.
    """
    passes = min(int(np.ceil(budget / pool_tokens)), int(np.ceil(_MAX_HALF_LIVES * half_life.max())) + 1)
    k = np.arange(passes)
    seen = np.minimum((k + 1) * pool_tokens, budget)
    b_eff = (shares[:, None] * utility[:, None] * 0.5 ** (k[None, :] / half_life[:, None])).sum(axis=0)
    steps = np.log(seen[1:] / seen[:-1])
    return float(np.exp(b_eff[0] * np.log(seen[0] / scale_tokens) + np.dot(b_eff[1:], steps)))


def _utilities(q: np.ndarray, buckets: list[np.ndarray], utility: Sequence[float] | None) -> np.ndarray:
    if utility is not None:
        b = np.asarray(utility, dtype=np.float64)
        if b.shape != (len(buckets),) or np.any(b > 0):
            raise UsageError(f"utility needs one value <= 0 per bucket ({len(buckets)}), best first; got {list(b)}")
        return b
    lo, hi = q.min(), q.max()
    unit = (q - lo) / (hi - lo) if hi > lo else np.ones_like(q)
    means = np.array([unit[bk].mean() for bk in buckets])
    return TOP_BUCKET_UTILITY * (means / means[0] if means[0] > 0 else np.ones_like(means))
