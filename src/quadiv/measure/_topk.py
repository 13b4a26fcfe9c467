"""Top-k mass and entropy of the next-token distributions of generated text (likelihood over-optimisation).

Shi et al. 2024, "Understanding Likelihood Over-optimisation in Direct Alignment Algorithms", arXiv 2410.11677:
decreasing entropy over the top-k tokens and diminishing top-k probability mass signal over-optimisation
(abstract, verified). Per generated position t with top-k set S_t: M_t = sum_{v in S_t} p_t(v),
H_t = -sum_{v in S_t} p_t(v) log p_t(v), H~_t = -sum_{v in S_t} (p_t(v) / M_t) log(p_t(v) / M_t); each is
averaged over a response's tokens, then over responses. Unverified (METHODS.md sec. 8): the paper's k
(default 10 here) and whether its entropy is renormalised, so both are reported.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from quadiv.errors import UsageError

TOPK_METRICS = ("topk_mass", "topk_entropy", "topk_entropy_renormalized")


def topk_indicators(top_logprobs: Sequence[Sequence[Mapping[str, float]] | None], k: int = 10) -> dict[str, float]:
    """Mean over responses of the per-response mean over tokens of M_t, H_t and H~_t (NaN with no token).

    ``top_logprobs[i]`` lists response i's positions, each {token: log p} (or, as generated rows store it, a
    list of {"token", "logprob"}) of at least ``k`` alternatives (the k largest are used); a response
    without positions is left out of the means.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise UsageError(f"`top_k` must be a positive whole number, got {k!r}")
    per_response = []
    for i, positions in enumerate(top_logprobs):
        if not positions:
            continue
        positions = [_values(alt) for alt in positions]
        short = next((t for t, alt in enumerate(positions) if len(alt) < k), None)
        if short is not None:
            raise UsageError(f"response {i}, token {short} has {len(positions[short])} top log-probs, fewer than "
                             f"`top_k` = {k}: lower `top_k` or generate with more (--param logprobs={k})")
        logp = np.array([sorted(alt, reverse=True)[:k] for alt in positions], dtype=np.float64)
        p = np.exp(logp)
        mass = p.sum(axis=1)
        entropy = -(p * np.where(p > 0, logp, 0.0)).sum(axis=1)  # 0 log 0 = 0
        q = p / mass[:, None]
        renormalized = -(q * np.log(np.where(q > 0, q, 1.0))).sum(axis=1)
        per_response.append((mass.mean(), entropy.mean(), renormalized.mean()))
    if not per_response:
        return dict.fromkeys(TOPK_METRICS, float("nan"))
    return dict(zip(TOPK_METRICS, (float(v) for v in np.mean(per_response, axis=0))))


def _values(alternatives: Mapping[str, float] | Sequence[Mapping]) -> list[float]:
    """The log-probs of one position's alternatives, from {token: log p} or [{"token", "logprob"}, ...]."""
    if isinstance(alternatives, Mapping):
        return [v for v in alternatives.values() if v is not None]  # a table's struct column pads with nulls
    return [a["logprob"] for a in alternatives]
