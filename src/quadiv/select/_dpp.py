"""Greedy MAP inference for a quality-diversity determinantal point process (Chen et al. 2018)."""
from __future__ import annotations

import functools

import numpy as np

from quadiv.errors import UsageError
from quadiv.select._base import Selection, Selector, register, unit_quality
from quadiv.select._shards import open_shards, sharded_greedy


def as_float(X: np.ndarray) -> np.ndarray:
    """X unchanged when float32 or float64 (no copy), else as float64."""
    return X if X.dtype in (np.float32, np.float64) else X.astype(np.float64)


class Basis:
    """An orthonormal basis U (Gram-Schmidt, twice) of the span of the rows added so far, at most ``capacity``."""

    def __init__(self, capacity: int, d: int, eps: float):
        self.rows, self.eps, self.size = np.empty((min(capacity, d), d)), eps, 0

    @property
    def spans_space(self) -> bool:
        """U spans all of R^d: every residual is exactly 0."""
        return self.size == self.rows.shape[1]

    def add(self, x: np.ndarray) -> np.ndarray | None:
        """u = (x - U^T U x) / |x - U^T U x| appended to U, or None if x is in its span (or U is full)."""
        if self.size == self.rows.shape[0]:
            return None
        r = x.astype(np.float64)
        for _ in range(2):  # Gram-Schmidt twice keeps the basis orthonormal in floating point
            B = self.rows[:self.size]
            r -= B.T @ (B @ r)
        norm2 = float(r @ r)
        if norm2 < self.eps:
            return None
        self.rows[self.size] = r / np.sqrt(norm2)
        self.size += 1
        return self.rows[self.size - 1]


class Residuals:
    """Squared distance of every row of X to the span of the rows added so far.

    This is the vector d_i^2 of Chen et al. 2018, Algorithm 1, for the kernel K = X X^T. Their update
    e_i = (K_ji - <c_j, c_i>) / d_j, d_i^2 <- d_i^2 - e_i^2 uses the Cholesky rows c_i; because K is
    low-rank, c_i = U x_i with U the orthonormal Gram-Schmidt basis of the picked rows, so
    e_i = x_i . u with u = (x_j - U^T U x_j) / d_j: one matvec X u per step, O(n d) time, and
    O(n + k d) memory instead of the O(n k) of the c_i (same numbers, exact arithmetic). The basis
    may live elsewhere (a DPP shard gets u from the driver): :meth:`project` takes u itself.
    """

    def __init__(self, X: np.ndarray, capacity: int, eps: float):
        self.X = X
        self.sq = np.einsum("ij,ij->i", X, X, dtype=np.float64)
        self.basis = Basis(capacity, X.shape[1], eps)

    def add(self, j: int, similarities: bool = False) -> np.ndarray | None:
        """Project the residuals off row j (no-op if row j is in the span); return X x_j if asked.

        Asking for X x_j costs little extra: it shares the pass over X with the residual update.
        """
        u = self.basis.add(self.X[j])
        if u is None:
            return (self.X @ self.X[j]).astype(np.float64) if similarities else None
        return self.project(u, self.basis.spans_space, self.X[j] if similarities else None)

    def project(self, u: np.ndarray, spans_space: bool, row: np.ndarray | None = None) -> np.ndarray | None:
        """d_i^2 <- max(d_i^2 - (x_i . u)^2, 0) (all 0 once the basis spans R^d); X row when given."""
        rows = np.stack([u, row]) if row is not None else u[None]
        E = (self.X @ rows.T.astype(self.X.dtype)).astype(np.float64)
        self.sq -= E[:, 0] ** 2
        np.maximum(self.sq, 0.0, out=self.sq)
        if spans_space:
            self.sq.fill(0.0)
        return E[:, 1] if row is not None else None


@register
class DPPSelector(Selector):
    """Greedy MAP of a quality-diversity DPP: pick argmax_i log det L_{S+i} - log det L_S, one at a time.

    L = diag(r) K diag(r), K = X X^T (cosine for unit rows), r_i = exp(alpha q_i) with q = unit
    quality and alpha = theta / (2 (1 - theta)), theta = ``tradeoff``. Then
    log det L_S = 2 alpha sum_S q_i + log det K_S, and the greedy maximises the rescaled objective

        (1 - theta) log det L_S = theta * sum_{i in S} q_i + (1 - theta) * log det K_S,

    so theta = 0 is the plain DPP (diversity only) and theta = 1 is top-quality order.
    Chen, Zhang & Zhou 2018, "Fast Greedy MAP Inference for Determinantal Point Process to Improve
    Recommendation Diversity", NeurIPS, Algorithm 1 (incremental Cholesky, see ``Residuals``) and
    Sec. 4 (relevance trade-off theta). The Cholesky quantities of L are those of K scaled by r_i,
    so the marginal gain log d_i^2(L) = 2 alpha q_i + log d_i^2(K) is evaluated on K (no overflow).

    Stopping (Algorithm 1): items whose residual d_i^2(K) < ``eps`` count as inside the span (gain
    -inf). When none is left (K has rank <= d, so this happens once |S| reaches the rank), the DPP
    cannot grow and the rest of the budget is filled with the highest-quality remaining items;
    ``params["dpp_size"]`` says how many picks came from the DPP and those fallback picks have gain
    NaN. ``objective`` is the rescaled objective above over the DPP picks; ``gains`` are its
    marginal gains (at theta = 1: the unit qualities, summing to the objective).
    """

    name = "dpp"
    engines = frozenset({"local", "ray"})  # the same picks on either

    def __init__(self, eps: float = 1e-6):
        if not 0.0 < float(eps) < 1.0:
            raise UsageError(f"eps must lie in (0, 1) (a squared residual of a unit row), got {eps}")
        self.eps = float(eps)

    def _select(self, X, budget, quality, tradeoff, groups, seed, engine=None) -> Selection:
        X = as_float(X)
        q = unit_quality(quality, X.shape[0])
        where = {"engine": engine.name} if engine else {}
        if tradeoff == 1.0:
            picks = np.argsort(-q, kind="stable")[:budget]
            gains = q[picks]
        else:
            picks, gains, shards = self._greedy(X, q, budget, tradeoff, engine)
            where = {**where, "shards": shards} if engine else {}
        dpp_size = int(np.sum(~np.isnan(gains)))
        return Selection(
            indices=picks,
            objective=float(np.nansum(gains)),
            method=self.name,
            params={
                "alpha": None if tradeoff == 1.0 else tradeoff / (2.0 * (1.0 - tradeoff)),
                "eps": self.eps,
                "dpp_size": dpp_size,
                "fallback": "highest unit quality among the remaining items",
                **where,
            },
            gains=gains,
        )

    def _greedy(self, X: np.ndarray, q: np.ndarray, budget: int, theta: float,
                engine) -> tuple[np.ndarray, np.ndarray, int]:
        """Algorithm 1 with gains theta q_i + (1 - theta) log d_i^2 over shards; then the quality fallback."""
        basis = Basis(budget, X.shape[1], self.eps)

        def direction(j: int) -> tuple[np.ndarray, bool] | None:
            u = basis.add(X[j])
            return None if u is None else (u, basis.spans_space)

        factory = functools.partial(DPPShard, theta=theta, eps=self.eps)
        with open_shards(engine, X, [q], factory) as shards:
            picks, gains, answers = sharded_greedy(shards, direction, budget)
        free = np.ones(X.shape[0], dtype=bool)
        free[picks] = False
        rest = np.flatnonzero(free)
        rest = rest[np.argsort(-q[rest], kind="stable")][: budget - len(picks)]
        gains = np.concatenate([gains, np.full(rest.size, np.nan)])
        return np.concatenate([picks, rest]), gains, len(answers)


class DPPShard:
    """Rows of a DPP greedy (see :mod:`quadiv.select._shards`): their residuals, projected off each new direction."""

    def __init__(self, X: np.ndarray, q: np.ndarray, theta: float, eps: float):
        self.res, self.q, self.theta, self.eps = Residuals(X, 0, eps), q, theta, eps
        self.taken = np.zeros(len(X), dtype=bool)

    def update(self, direction: tuple[np.ndarray, bool] | None, picked: int | None) -> tuple[float, int, float]:
        """Take local row ``picked``, project off ``direction`` = (u, spans R^d); (best gain, its index, 0)."""
        if picked is not None:
            self.taken[picked] = True
        if direction is not None:
            self.res.project(*direction)
        sq = self.res.sq
        ok = ~self.taken & (sq >= self.eps)
        score = np.full(len(sq), -np.inf)
        score[ok] = self.theta * self.q[ok] + (1.0 - self.theta) * np.log(sq[ok])
        i = int(np.argmax(score))
        return float(score[i]), i, 0.0
