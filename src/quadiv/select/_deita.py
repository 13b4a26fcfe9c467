"""DEITA's selection: the best-scored items first, each kept only if it is not too close to one already kept."""
from __future__ import annotations

import numpy as np

from quadiv.errors import UsageError
from quadiv.select._base import Selection, Selector, register

_CHUNK = 1024


@register
class DEITASelector(Selector):
    """DEITA's score-first, diversity-aware selection (Liu et al. 2024, "What Makes Good Data for Alignment?",
    arXiv 2312.15685, §2.4 and Algorithm 1; hkust-nlp/deita ``selection/filter/combined_filter.py``).

    Items are visited in decreasing ``quality`` (DEITA's evol score, quality x complexity: make it with
    ``quadiv score --scorer Q,complexity --combine none --aggregate product``; ties in input order) and
    one is kept when its cosine similarity to every kept item is below the gate tau (DEITA: 0.9), until
    the budget is met. ``tradeoff`` moves the gate: tau = threshold at 0.5, rising linearly to 1 (no gate:
    the top-quality items) at tradeoff 1 and falling to 0 (only near-orthogonal items) at 0. When the gate
    leaves fewer than ``budget`` items, DEITA stops short; here the best-scored rejected items fill the
    budget, and ``params['filled']`` says how many. ``objective`` is the mean quality of the chosen items.

    The scan is exact and sequential in meaning, but vectorised: candidates are compared with the kept set
    1,024 at a time with one matrix product, then with each other inside the chunk.

    Parameters:
        threshold: the cosine-similarity gate at tradeoff 0.5 (DEITA's 0.9).
    """

    name = "deita"

    def __init__(self, threshold: float = 0.9):
        if not 0.0 <= threshold <= 1.0:
            raise UsageError(f"the DEITA threshold is a cosine similarity in [0, 1], got {threshold}")
        self.threshold = float(threshold)

    def gate(self, tradeoff: float) -> float:
        """The similarity gate tau at ``tradeoff``: piecewise linear through (0, 0), (0.5, threshold), (1, 1)."""
        if tradeoff >= 0.5:
            return self.threshold + (1.0 - self.threshold) * (2.0 * tradeoff - 1.0)
        return self.threshold * 2.0 * tradeoff

    def _select(self, X, budget, quality, tradeoff, groups, seed) -> Selection:
        n = X.shape[0]
        score = np.zeros(n) if quality is None else quality
        order = np.argsort(-score, kind="stable")
        tau = self.gate(tradeoff)
        kept: list[int] = []
        for lo in range(0, n, _CHUNK):
            if len(kept) == budget:
                break
            chunk = order[lo:lo + _CHUNK]
            near = (X[chunk] @ X[kept].T).max(axis=1) >= tau if kept and tau < 1 else np.zeros(len(chunk), bool)
            inner = X[chunk] @ X[chunk].T
            taken: list[int] = []
            for a in range(len(chunk)):
                if len(kept) + len(taken) == budget:
                    break
                if tau < 1 and (near[a] or (taken and inner[a, taken].max() >= tau)):
                    continue
                taken.append(a)
            kept.extend(int(chunk[a]) for a in taken)
        filled = budget - len(kept)
        if filled:
            rest = np.setdiff1d(order, kept, assume_unique=True)
            kept.extend(int(i) for i in order[np.isin(order, rest)][:filled])
        indices = np.asarray(kept, dtype=np.int64)
        return Selection(indices=indices, objective=float(score[indices].mean()), method=self.name,
                         params={"threshold": self.threshold, "gate": tau, "filled": int(filled)})
