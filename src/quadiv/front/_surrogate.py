"""Quadratic surrogate fronts (MAP): model each objective as a quadratic in the knobs, predict the front.

Li, Zhang, Bu, Wang, He, Fu, Wu, Bian, Chen and Bengio, "MAP: Low-compute Model Merging with Amortized
Pareto Fronts via Quadratic Approximation", ICLR 2025 (arXiv:2406.07529), method section: each metric
M_n of the knob vector c is approximated by

    M~_n(c) = 1/2 c^T A_n c + b_n^T c + e_n,

fitted by least squares on a few evaluated knob vectors; the Pareto front of the surrogates then
stands in for the one that a dense grid of real evaluations would give (MAP searches it with NSGA-III;
with the few knobs of a sweep a dense grid is exact), and new evaluations go where the surrogate front
lies (their adaptive, Bayesian variant). Here the knobs are the tradeoff (and the budget when several
are swept) or any numeric columns of a results table.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from quadiv.errors import UsageError
from quadiv.front._pareto import pareto_mask

DENSE_POINTS = 101  # values per knob of the dense grid on which the surrogate front is predicted


class QuadraticSurrogate:
    """Least-squares fit of every target column on the full quadratic basis of the knobs.

    Basis of k knobs z (standardised: centred on the data's mean, scaled by its spread):
    [1, z_1..z_k, z_i z_j for i <= j], 1 + k + k(k + 1)/2 columns. ``numpy.linalg.lstsq`` gives the
    minimum-norm solution when the design is rank-deficient (e.g. two distinct budgets).
    """

    def fit(self, knobs: np.ndarray, targets: np.ndarray) -> QuadraticSurrogate:
        Z = _as_matrix(knobs, "knobs")
        Y = _as_matrix(targets, "targets")
        if len(Z) != len(Y):
            raise UsageError(f"{len(Z)} knob vectors but {len(Y)} target rows: give one row per evaluation")
        self.center = Z.mean(axis=0)
        spread = Z.std(axis=0)
        self.scale = np.where(spread > 0, spread, 1.0)
        B = self._basis(Z)
        if len(Z) < B.shape[1]:
            raise UsageError(f"a quadratic in {Z.shape[1]} knob(s) needs at least {B.shape[1]} evaluations, "
                             f"got {len(Z)}")
        self.coef, *_ = np.linalg.lstsq(B, Y, rcond=None)
        self.fitted = B @ self.coef
        self.residuals = Y - self.fitted
        self.leverage = np.einsum("ij,ji->i", B, np.linalg.pinv(B))
        self.targets = Y
        return self

    def predict(self, knobs: np.ndarray) -> np.ndarray:
        return self._basis(_as_matrix(knobs, "knobs")) @ self.coef

    def loo_residuals(self) -> np.ndarray:
        """Leave-one-out residuals e_i / (1 - h_ii) (PRESS), NaN where a point fixes its own fit."""
        with np.errstate(divide="ignore", invalid="ignore"):
            loo = self.residuals / (1.0 - self.leverage)[:, None]
        loo[self.leverage > 1.0 - 1e-9] = np.nan
        return loo

    def _basis(self, Z: np.ndarray) -> np.ndarray:
        z = (Z - self.center) / self.scale
        k = z.shape[1]
        cross = [z[:, i] * z[:, j] for i in range(k) for j in range(i, k)]
        return np.column_stack([np.ones(len(z)), z, *cross])


def n_basis(k: int) -> int:
    """Number of coefficients of a full quadratic in k knobs."""
    return 1 + k + k * (k + 1) // 2


def r2_score(measured: np.ndarray, predicted: np.ndarray) -> float:
    """1 - sum (y - y^)^2 / sum (y - mean y)^2; NaN when y is constant."""
    y, p = np.asarray(measured, dtype=np.float64), np.asarray(predicted, dtype=np.float64)
    total = float(np.sum((y - y.mean()) ** 2))
    return 1.0 - float(np.sum((y - p) ** 2)) / total if total > 0 else math.nan


def agreement(measured: np.ndarray, predicted: np.ndarray, names: Sequence[str]) -> dict:
    """Per objective: R^2 and the largest absolute error of ``predicted`` against ``measured``."""
    return {name: {"r2": r2_score(measured[:, j], predicted[:, j]),
                   "max_abs_error": float(np.max(np.abs(measured[:, j] - predicted[:, j])))}
            for j, name in enumerate(names)}


def fit_report(knobs: np.ndarray, targets: np.ndarray, knob_names: Sequence[str], names: Sequence[str]) -> dict:
    """How well a quadratic explains the measured objectives: in-sample R^2 and leave-one-out errors."""
    model = QuadraticSurrogate().fit(knobs, targets)
    loo = model.loo_residuals()
    return {"knobs": list(knob_names), "evaluations": len(targets),
            "fit": {name: {"r2": r2_score(targets[:, j], model.fitted[:, j]),
                           "loo_max_abs_error": float(np.max(np.abs(loo[:, j])))
                           if np.all(np.isfinite(loo[:, j])) else math.nan}
                    for j, name in enumerate(names)}}


def dense_grid(axes: Sequence[np.ndarray]) -> np.ndarray:
    """Every combination of the values on each knob's axis, one row per knob vector."""
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.column_stack([m.ravel() for m in mesh])


def spread(candidates: np.ndarray, count: int, chosen: np.ndarray | None = None) -> np.ndarray:
    """Indices of ``count`` candidates picked farthest-first from ``chosen`` (and each other).

    Distances are Euclidean on knobs scaled to [0, 1]; without ``chosen`` the first candidate starts.
    """
    lo, span = candidates.min(axis=0), np.ptp(candidates, axis=0)
    scale = np.where(span > 0, span, 1.0)
    C = (candidates - lo) / scale
    dist = np.full(len(C), np.inf)
    if chosen is not None and len(chosen):
        S = (np.asarray(chosen, dtype=np.float64) - lo) / scale
        dist = np.min(np.linalg.norm(C[:, None, :] - S[None, :, :], axis=2), axis=1)
    picks: list[int] = []
    for _ in range(min(count, len(C))):
        j = int(np.argmax(dist))  # all infinite (nothing chosen yet): the first candidate
        if dist[j] <= 1e-12:
            break
        picks.append(j)
        dist = np.minimum(dist, np.linalg.norm(C - C[j], axis=1))
    return np.asarray(picks, dtype=np.int64)


def adaptive_evaluations(
    evaluate: Callable[[np.ndarray], Mapping[str, float]],
    grid: np.ndarray,
    dense: np.ndarray,
    objectives: Mapping[str, str],
    n_evals: int,
) -> tuple[list[tuple[np.ndarray, dict]], dict]:
    """MAP with adaptive sampling: evaluate a few knobs, fit, evaluate the predicted front, refit.

    1. Evaluate n0 = max(basis size, ceil(n_evals / 2)) knob vectors of ``grid`` spread farthest-first.
    2. Fit the quadratic surrogate of every objective; predict all of them on ``dense``.
    3. Evaluate up to n_evals - n0 knob vectors of the predicted Pareto front, spread farthest-first
       away from those already evaluated; compare them with what the first fit predicted (R^2, max
       abs error: out-of-sample agreement).
    4. Refit on everything and predict the front again.
    Returns the evaluations [(knobs, metrics)] and the report.
    """
    names, senses = list(objectives), list(objectives.values())
    need = n_basis(grid.shape[1])
    if n_evals < need:
        raise UsageError(f"`budget_evals` {n_evals} is too few: a quadratic in {grid.shape[1]} knob(s) "
                         f"needs at least {need} evaluations")
    n0 = min(n_evals, max(need, math.ceil(n_evals / 2)))
    done = [(grid[i], dict(evaluate(grid[i]))) for i in spread(grid, n0)]
    first = _fit(done, names)
    predicted = first.predict(dense)
    on_front = dense[pareto_mask(predicted, senses)]
    new_knobs = on_front[spread(on_front, n_evals - len(done), np.array([k for k, _ in done]))]
    new = [(knobs, dict(evaluate(knobs))) for knobs in new_knobs]
    report = {"initial": len(done), "evaluations": len(done) + len(new)}
    if new:
        measured = np.array([[m[n] for n in names] for _, m in new])
        report["holdout"] = agreement(measured, first.predict(new_knobs), names)
    done += new
    final = _fit(done, names)
    predicted = final.predict(dense)
    mask = pareto_mask(predicted, senses)
    report["fit"] = {n: {"r2": r2_score(final.targets[:, j], final.fitted[:, j])} for j, n in enumerate(names)}
    report["predicted_front"] = [(dense[i], dict(zip(names, predicted[i].tolist()))) for i in np.flatnonzero(mask)]
    return done, report


def _fit(done: list[tuple[np.ndarray, dict]], names: Sequence[str]) -> QuadraticSurrogate:
    knobs = np.array([k for k, _ in done])
    targets = np.array([[m[n] for n in names] for _, m in done], dtype=np.float64)
    return QuadraticSurrogate().fit(knobs, targets)


def _as_matrix(values: np.ndarray, what: str) -> np.ndarray:
    A = np.asarray(values, dtype=np.float64)
    A = A[:, None] if A.ndim == 1 else A
    if A.ndim != 2 or not np.all(np.isfinite(A)):
        raise UsageError(f"{what} must be a finite (n, k) array, got shape {np.shape(values)}")
    return A
