"""Pareto filtering, hypervolume, the R2 indicator and the knee point of a set of objective vectors.

Objectives are named and each is maximised or minimised (``{"quality_mean": "max", "vendi": "max"}``).
Every function here first maps the values to minimisation (max objectives negated), so one code path
serves every mix of senses.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from quadiv.errors import UsageError

SENSES = ("max", "min")
REFERENCE_MARGIN = 0.1  # default hypervolume reference: 10% of each objective's range beyond its worst value
_BLOCK = 1024  # rows per block of the pairwise dominance test
_MAX_WEIGHTS = 1000  # the R2 weight lattice grows up to this many vectors


def parse_objectives(spec: str | Mapping[str, str]) -> dict[str, str]:
    """'quality_mean:max,vendi:max' -> {'quality_mean': 'max', 'vendi': 'max'} (a bare name means max)."""
    if isinstance(spec, Mapping):
        pairs = [(str(name), str(sense)) for name, sense in spec.items()]
    else:
        pairs = []
        for part in (p.strip() for p in spec.split(",")):
            if part:
                name, _, sense = part.partition(":")
                pairs.append((name.strip(), sense.strip() or "max"))
    objectives = {}
    for name, sense in pairs:
        if sense not in SENSES:
            raise UsageError(f"objective '{name}' has sense '{sense}': use NAME:max or NAME:min")
        if name in objectives:
            raise UsageError(f"objective '{name}' is named twice: name each objective once")
        objectives[name] = sense
    if len(objectives) < 2:
        raise UsageError(f"a front needs at least two objectives, got {list(objectives)}: "
                         "e.g. --objectives quality_mean:max,vendi:max")
    return objectives


def as_minimised(values: np.ndarray, senses: Sequence[str]) -> np.ndarray:
    """(n, m) float64 copy of ``values`` with every 'max' column negated; NaN is an error."""
    V = np.array(values, dtype=np.float64, ndmin=2)
    if V.shape[1] != len(senses):
        raise UsageError(f"values have {V.shape[1]} objectives but {len(senses)} senses were given")
    if not np.all(np.isfinite(V)):
        row, col = np.argwhere(~np.isfinite(V))[0]
        raise UsageError(f"objective {col} of point {row} is {V[row, col]}: every point needs finite objectives")
    flip = np.array([-1.0 if s == "max" else 1.0 for s in senses])
    return V * flip


def pareto_mask(values: np.ndarray, senses: Sequence[str]) -> np.ndarray:
    """True for every point that no other point dominates (equal points are all kept).

    With F the values in minimisation form, a dominates b iff F_a <= F_b in every objective and
    F_a < F_b in at least one. Vectorised pairwise test, O(n^2 m) time in row blocks of O(_BLOCK n m)
    memory.
    """
    F = as_minimised(values, senses)
    keep = np.ones(F.shape[0], dtype=bool)
    for lo in range(0, F.shape[0], _BLOCK):
        rows = F[lo:lo + _BLOCK, None, :]  # (b, 1, m): the points tested
        no_worse = np.all(F[None, :, :] <= rows, axis=2)  # [i, j]: j is no worse than i everywhere
        better = np.any(F[None, :, :] < rows, axis=2)
        keep[lo:lo + _BLOCK] = ~np.any(no_worse & better, axis=1)
    return keep


def default_reference(values: np.ndarray, senses: Sequence[str]) -> np.ndarray:
    """Hypervolume reference point: each objective's worst value moved 10% of its range further out.

    For a max objective: min - 0.1 (max - min); for a min objective: max + 0.1 (max - min). An
    objective with zero range moves by 0.1 max(|value|, 1), so every point still adds volume.
    """
    F = as_minimised(values, senses)
    worst, span = F.max(axis=0), np.ptp(F, axis=0)
    span = np.where(span > 0, span, np.maximum(np.abs(worst), 1.0))
    flip = np.array([-1.0 if s == "max" else 1.0 for s in senses])
    return (worst + REFERENCE_MARGIN * span) * flip


def hypervolume(values: np.ndarray, senses: Sequence[str], reference: Sequence[float] | None = None) -> dict:
    """Volume of objective space dominated by the points and bounded by the reference point.

    HV(A, r) = Lebesgue measure of the union over a in A of the boxes [a, r] (minimisation form),
    computed exactly by moocore (Fonseca, Paquete and Lopez-Ibanez 2006; Guerreiro and Fonseca 2017).
    Points not strictly better than ``reference`` in every objective add nothing. The front metric of
    Jain et al. 2023, "Multi-Objective GFlowNets", ICML.
    Returns ``{"reference": [...] (original senses), "value": float}``.
    """
    import moocore

    ref = default_reference(values, senses) if reference is None else np.asarray(reference, dtype=np.float64)
    if ref.shape != (len(senses),) or not np.all(np.isfinite(ref)):
        raise UsageError(f"the reference point needs one finite value per objective ({len(senses)}), got {list(ref)}")
    F = as_minimised(values, senses)
    r = as_minimised(ref[None, :], senses)[0]
    inside = np.all(F < r, axis=1)
    value = float(moocore.hypervolume(F[inside], ref=r)) if inside.any() else 0.0
    return {"reference": ref.tolist(), "value": value}


def weight_lattice(m: int, divisions: int | None = None) -> np.ndarray:
    """Uniform weight vectors on the simplex: every w with w_j = k_j / H, k_j >= 0 whole, sum_j k_j = H.

    The simplex-lattice design of Das and Dennis 1998 ("Normal-Boundary Intersection: a new method for
    generating the Pareto surface in nonlinear multicriteria optimization problems", SIAM J. Optim. 8),
    as the uniform reference points of the Multi-Objective GFlowNets code. Default H: the
    largest giving at most 1000 vectors (H = 999 for two objectives).
    """
    if m < 2:
        raise UsageError(f"weights need at least two objectives, got {m}")
    H = divisions if divisions is not None else _default_divisions(m)
    if H < 1:
        raise UsageError(f"the weight lattice needs at least 1 division, got {H}")
    # stars and bars: choose the m - 1 bar positions among H + m - 1 slots
    bars = np.array(_combinations(H + m - 1, m - 1))
    edges = np.concatenate([np.full((len(bars), 1), -1), bars, np.full((len(bars), 1), H + m - 1)], axis=1)
    return (np.diff(edges, axis=1) - 1) / H


def _default_divisions(m: int) -> int:
    H = 1
    while math.comb(H + 1 + m - 1, m - 1) <= _MAX_WEIGHTS:
        H += 1
    return H


def _combinations(n: int, k: int) -> list[tuple[int, ...]]:
    from itertools import combinations

    return list(combinations(range(n), k))


def r2_indicator(
    values: np.ndarray,
    senses: Sequence[str],
    ideal: Sequence[float] | None = None,
    reference: Sequence[float] | None = None,
    weights: np.ndarray | None = None,
) -> dict:
    """Expected Tchebycheff distance of the set to the ideal point over uniform weights (lower is better).

        R2(A) = (1/|W|) sum_{w in W} min_{a in A} max_j w_j |z*_j - f_j(a)|

    on objectives scaled to [0, 1] between the ideal point z* (default: the best value of each
    objective over the points) and the hypervolume reference point (default: :func:`default_reference`),
    with W the simplex lattice of :func:`weight_lattice`. Brockhoff, Wagner and Trautmann 2012, "On the
    properties of the R2 indicator", GECCO (R2 with the Tchebycheff utility and an ideal point);
    reported next to the hypervolume by Jain et al. 2023, "Multi-Objective GFlowNets", ICML (their
    code divides the sum by the Frobenius norm of W instead of |W|). With two objectives and a dense
    lattice it converges to the exact R2 (Schaepermeier and Kerschke 2025; ``moocore.r2_exact``).
    Returns ``{"value", "ideal", "reference", "weights"}`` (ideal and reference in original senses).
    """
    F = as_minimised(values, senses)
    z = F.min(axis=0) if ideal is None else as_minimised(np.asarray(ideal, dtype=np.float64)[None, :], senses)[0]
    ref = default_reference(values, senses) if reference is None else np.asarray(reference, dtype=np.float64)
    r = as_minimised(ref[None, :], senses)[0]
    span = np.where(r - z > 0, r - z, 1.0)
    W = weight_lattice(F.shape[1]) if weights is None else np.asarray(weights, dtype=np.float64)
    value = tchebycheff_r2(np.abs(F - z) / span, W)
    flip = np.array([-1.0 if s == "max" else 1.0 for s in senses])
    return {"value": value, "ideal": (z * flip).tolist(), "reference": ref.tolist(), "weights": len(W)}


def tchebycheff_r2(D: np.ndarray, W: np.ndarray) -> float:
    """mean_w min_a max_j w_j D[a, j] for distances D (n, m) to the ideal point and weights W (k, m)."""
    best = np.full(len(W), np.inf)
    for lo in range(0, D.shape[0], _BLOCK):
        utility = np.max(W[:, None, :] * D[None, lo:lo + _BLOCK, :], axis=2)  # (k, b)
        np.minimum(best, utility.min(axis=1), out=best)
    return float(best.mean())


def knee_point(values: np.ndarray, senses: Sequence[str], mask: np.ndarray | None = None) -> int:
    """Index of the knee: the Pareto point farthest beyond the hyperplane through the front's extremes.

    Each objective is scaled to [0, 1] over the front (1 = best). The extremes e_1..e_m are the front
    points best in each objective; the hyperplane a . f = 1 through them is the convex hull of
    individual minima (CHIM) of Das 1999, "On characterizing the 'knee' of the Pareto curve based on
    Normal-Boundary Intersection", Struct. Optim. 18, and the knee is the point that maximises the
    signed distance (a . f - 1) / ||a|| towards the ideal point (with two objectives: the distance to the
    line through the two extreme points; Deb and Gupta 2011, "Understanding knee points in bicriteria
    problems and their implications as preferred solution principles", Eng. Optim. 43). When the extremes do not span a hyperplane (repeated extremes), the plane
    sum_j f_j = 1 is used. Ties go to the lowest index.
    """
    F = -as_minimised(values, senses)  # maximisation form
    keep = pareto_mask(values, senses) if mask is None else np.asarray(mask, dtype=bool)
    idx = np.flatnonzero(keep)
    if idx.size == 0:
        raise UsageError("the knee needs at least one point")
    front = F[idx]
    lo, span = front.min(axis=0), np.ptp(front, axis=0)
    G = (front - lo) / np.where(span > 0, span, 1.0)
    extremes = G[np.argmax(G, axis=0)]  # row j: the front point best in objective j
    try:
        normal = np.linalg.solve(extremes, np.ones(G.shape[1]))
        if not np.all(np.isfinite(normal)) or np.linalg.cond(extremes) > 1e12:
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        normal = np.ones(G.shape[1])
    distance = (G @ normal - 1.0) / np.linalg.norm(normal)
    return int(idx[int(np.argmax(distance))])
