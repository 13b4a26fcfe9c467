"""Greedy maximisation of the quality-weighted Vendi score (Nguyen & Dieng 2024)."""
from __future__ import annotations

import functools
from contextlib import AbstractContextManager, nullcontext

import numpy as np
from scipy.special import entr

from quadiv.errors import UsageError
from quadiv.measure import vendi
from quadiv.select._base import Selection, Selector, register, unit_quality
from quadiv.select._dpp import Residuals, as_float

_SPAN_EPS = 1e-6  # squared residual below which a unit row counts as inside the span of S
_BLOCK = 256  # candidates per batched eigendecomposition


@register
class QVendiSelector(Selector):
    """Greedy quality-weighted Vendi selection: add the item that most increases mean(q)^t * VS^(1-t).

        qVS(S) = (1/|S| sum_{i in S} q_i) * VS(S),  VS(S) = exp(-sum_l lam_l log lam_l),
        lam = eig(K_S / |S|), K_S = X_S X_S^T (cosine for unit rows),

    q = unit quality. The shared knob t = ``tradeoff`` enters as the exponent of the two factors:
    each step maximises F_t(S) = mean_S(q)^t * VS(S)^(1-t), so t = 1 is top-quality order, t = 0 is
    greedy Vendi score, and t = 0.5 (F = sqrt(qVS)) is exactly the qVS greedy of the paper.
    Nguyen & Dieng 2024, "Quality-Weighted Vendi Scores and Their Application to Diverse
    Experimental Design", ICML, Sec. 3 (qVS) and its sequential greedy maximisation. The first pick
    is the highest-quality item (every singleton has VS = 1); ties go to the lowest index.

    Candidates: with ``shortlist=None`` every remaining item is scored exactly (the paper's greedy,
    one (|S|+1)-sized eigenproblem per item and step: small n only). With ``shortlist=M`` only the
    top M by a proxy of F_t are scored exactly. The proxy approximates VS(S + i) by assuming the
    in-span part y of x_i = y + w (w off span(X_S), |w|^2 = r_i^2 from ``Residuals``) lies along one
    eigenvector of A = X_S^T X_S with eigenvalue y^T A y / |y|^2 (its Rayleigh quotient, from the
    running sums sum_{j in S} (x_i . x_j)^2): then only a 2 x 2 block of the spectrum changes and the
    entropy has a closed form. It is exact for a candidate orthogonal to S and for one whose in-span
    part is an eigenvector. On clustered test data (60 runs, n <= 600, d <= 64, t in [0, 0.8]) the
    exact greedy choice was in the proxy's top 16 at about 96% of the steps, 42 runs gave the
    exhaustive greedy's picks and F_t was never more than 0.6% lower. Both running vectors share
    one pass over X per step; each step then costs M eigenproblems of size min(|S| + 1, d).

    ``objective`` is qVS(S) at Vendi order 1 (unit quality); ``gains`` are the increments of F_t;
    ``params["criterion"]`` is F_t(S).
    """

    name = "qvendi"

    def __init__(self, shortlist: int | None = 16):
        if shortlist is not None and (int(shortlist) != shortlist or shortlist < 2):
            raise UsageError(
                f"shortlist must be a whole number >= 2 or None (score every item), got {shortlist}")
        self.shortlist = None if shortlist is None else int(shortlist)

    def _select(self, X, budget, quality, tradeoff, groups, seed) -> Selection:
        X = as_float(X)
        q = unit_quality(quality, X.shape[0])
        state = _State(X, q, budget, int(np.argmax(q)))
        values = [q[state.picks[0]] ** tradeoff]
        while len(state.picks) < budget:
            cands = self._candidates(state, tradeoff)
            entropy = _entropies(state, X[cands].astype(np.float64))
            log_f = tradeoff * np.log((state.qsum + q[cands]) / (state.m + 1)) + (1.0 - tradeoff) * entropy
            best = int(np.argmax(log_f))
            state.add(int(cands[best]), float(entropy[best]), budget)
            values.append(float(np.exp(log_f[best])))
        picks = np.asarray(state.picks, dtype=np.int64)
        return Selection(
            indices=picks,
            objective=float(np.mean(q[picks])) * vendi(X[picks], 1.0),
            method=self.name,
            params={"shortlist": self.shortlist, "criterion": values[-1],
                    "criterion_formula": "mean(q)^t * VS^(1-t)"},
            gains=np.diff(np.asarray(values), prepend=0.0),
        )

    def _candidates(self, state: _State, t: float) -> np.ndarray:
        """Indices (ascending) to score exactly: all remaining items, or the top ``shortlist`` by proxy."""
        free = np.flatnonzero(state.free)
        if self.shortlist is None or free.size <= self.shortlist:
            return free
        m = state.m
        proxy = t * np.log((state.qsum + state.q[free]) / (m + 1)) + (1.0 - t) * _proxy_entropy(state, free)
        return free[np.sort(np.argpartition(-proxy, self.shortlist)[: self.shortlist])]


def _proxy_entropy(state: _State, idx: np.ndarray) -> np.ndarray:
    """Spectral entropy of (A + x x^T) / (|S|+1) if x's in-span part were an eigenvector of A.

    With r^2 the squared residual of x, a = 1 - r^2 and p = x^T A x / a, the eigenvalue p of A is
    replaced by the two eigenvalues of [[p + a, sqrt(a) r], [sqrt(a) r, r^2]] (trace p + 1,
    determinant p r^2); the rest of the spectrum, of entropy H_S, is untouched. For eigenvalues v
    of the unnormalised A (summing to m): H = log m - sum v log v / m.
    """
    m = state.m
    r2 = np.clip(state.res.sq[idx], 0.0, 1.0)
    a = 1.0 - r2
    p = np.where(a > _SPAN_EPS, state.sq_sim[idx] / np.maximum(a, _SPAN_EPS), 0.0)
    trace, det = p + 1.0, p * r2
    high = 0.5 * (trace + np.sqrt(np.maximum(trace * trace - 4.0 * det, 0.0)))
    low = det / high
    vlogv = m * np.log(m) - m * state.entropy + entr(p) - entr(high) - entr(low)
    return np.log(m + 1) - vlogv / (m + 1)


class _State:
    """The greedy's state: picks, their Gram matrix and d x d scatter, residuals, sum_S (x_i . x_j)^2."""

    def __init__(self, X: np.ndarray, q: np.ndarray, budget: int, first: int):
        n, d = X.shape
        self.X, self.q, self.d = X, q, d
        self.free = np.ones(n, dtype=bool)
        self.rows = np.empty((budget, d))
        self.gram = np.empty((min(budget, d + 1), min(budget, d + 1)))
        self.scatter = np.zeros((d, d))
        self.res = Residuals(X, budget, _SPAN_EPS)
        self.sq_sim = np.zeros(n)
        self.picks: list[int] = []
        self.qsum = 0.0
        self.add(first, 0.0, budget)

    @property
    def m(self) -> int:
        return len(self.picks)

    def add(self, j: int, entropy: float, budget: int) -> None:
        """Append item j, whose set S + j has spectral entropy ``entropy``."""
        m, x = self.m, self.X[j].astype(np.float64)
        self.rows[m] = x
        if m < self.gram.shape[0]:
            g = self.rows[: m + 1] @ x
            self.gram[m, : m + 1] = g
            self.gram[: m + 1, m] = g
        self.scatter += np.outer(x, x)
        self.picks.append(j)
        self.free[j] = False
        self.qsum += float(self.q[j])
        self.entropy = entropy
        if self.m < budget:
            self.sq_sim += self.res.add(j, similarities=True) ** 2


def _entropies(state: _State, C: np.ndarray) -> np.ndarray:
    """Spectral entropy of K_{S+c} / (|S|+1) for each candidate row c of C, in batches.

    For |S| + 1 <= d the (|S|+1)^2 Gram [[K_S, X_S c], [c^T X_S^T, c.c]]; otherwise the d x d
    scatter X_S^T X_S + c c^T, which has the same nonzero eigenvalues.
    """
    m = state.m
    out = np.empty(C.shape[0])
    with _one_blas_thread():
        for start in range(0, C.shape[0], _BLOCK):
            out[start:start + _BLOCK] = _block_entropies(state, C[start:start + _BLOCK], m)
    return out


def _block_entropies(state: _State, B: np.ndarray, m: int) -> np.ndarray:
    """``_entropies`` for one block of candidate rows."""
    if m + 1 <= state.d:
        G = np.empty((B.shape[0], m + 1, m + 1))
        G[:, :m, :m] = state.gram[:m, :m]
        g = B @ state.rows[:m].T
        G[:, m, :m] = g
        G[:, :m, m] = g
        G[:, m, m] = np.einsum("ij,ij->i", B, B)
    else:
        G = state.scatter[None] + B[:, :, None] * B[:, None, :]
    lam = np.clip(np.linalg.eigvalsh(G), 0.0, None) / (m + 1)
    return entr(lam).sum(axis=1)


@functools.cache
def _blas_controller():
    """threadpoolctl's controller when it is installed (it comes with scikit-learn), else None."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    return ThreadpoolController()


def _one_blas_thread() -> AbstractContextManager:
    """Run LAPACK on one thread: batched small eigenproblems are several times faster that way."""
    controller = _blas_controller()
    return nullcontext() if controller is None else controller.limit(limits=1, user_api="blas")
