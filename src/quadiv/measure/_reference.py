"""Precision, recall, density and coverage of an evaluated set against a reference set (Naeem et al.)."""
from __future__ import annotations

import numpy as np

from quadiv._deps import require
from quadiv.errors import UsageError
from quadiv.measure._arrays import finite_matrix

# Candidates per point taken from faiss before the exact re-ranking: k + 1 + _EXTRA_CANDIDATES (or all).
_EXTRA_CANDIDATES = 16
# Upper bound on the elements of one (rows, candidates, dim) gather when re-ranking candidates.
_GATHER_ELEMENTS = 1 << 24


def prdc(real: np.ndarray, fake: np.ndarray, k: int = 5, *, batch_size: int = 4096) -> dict[str, float]:
    """Precision, recall, density and coverage of `fake` (evaluated set) against `real` (reference set).

    With NND_k(x) the distance from x to its k-th nearest neighbour in its own set (the point itself
    excluded), B(x, r) the open ball of radius r, real points X_1..X_N and fake points Y_1..Y_M:

        precision = 1/M sum_j 1[ exists i: Y_j in B(X_i, NND_k(X_i)) ]
        recall    = 1/N sum_i 1[ exists j: X_i in B(Y_j, NND_k(Y_j)) ]
        density   = 1/(kM) sum_j sum_i 1[ Y_j in B(X_i, NND_k(X_i)) ]
        coverage  = 1/N sum_i 1[ exists j: Y_j in B(X_i, NND_k(X_i)) ]

    Naeem, Oh, Uh, Choi, Yoo (2020), "Reliable Fidelity and Diversity Metrics for Generative Models",
    ICML, Sec. 3 (precision and recall after Kynkaanniemi et al. 2019; density eq. 1; coverage eq. 2).

    Semantics are those of the reference package `prdc.compute_prdc(real, fake, k)`: Euclidean
    distances, strict `<`, the k-th neighbour counted after the point itself. Distances are evaluated
    as scikit-learn evaluates them for `prdc`: ||x||^2 + ||y||^2 - 2<x, y> in float64, rounded to
    float32 when both arrays compared are float32 (scikit-learn's float32 path; float64 otherwise),
    clipped at 0, square root; the radii go through the same expression, so ties (a fake
    point equal to a real point's k-th neighbour) resolve exactly as in `prdc`. Radius candidates come
    from an exact faiss search (IndexFlatL2, on centred data; faiss returns squared float32 distances,
    used here only to rank); the k + 1 + 16 nearest candidates are re-ranked with the expression above.
    The real x fake comparisons run over blocks of `batch_size` fake rows, so memory is
    O(batch_size * N) (about 12 * batch_size * N bytes) rather than O(N * M).
    """
    real32, fake32 = (np.asarray(a).dtype == np.float32 for a in (real, fake))
    real_x = finite_matrix(real, "real")
    fake_x = finite_matrix(fake, "fake")
    _check_args(real_x, fake_x, k, batch_size)
    real_sq = np.einsum("ij,ij->i", real_x, real_x)
    fake_sq = np.einsum("ij,ij->i", fake_x, fake_x)
    real_radii = _knn_radii(real_x, real_sq, k, real32)
    fake_radii = _knn_radii(fake_x, fake_sq, k, fake32)

    precise = 0
    density_hits = 0
    recalled = np.zeros(real_x.shape[0], dtype=bool)
    covered = np.zeros(real_x.shape[0], dtype=bool)
    for start in range(0, fake_x.shape[0], batch_size):
        stop = start + batch_size
        dist = _distances(fake_x[start:stop], fake_sq[start:stop], real_x, real_sq, real32 and fake32)
        inside = dist < real_radii[None, :]
        per_fake = inside.sum(axis=1)
        precise += int(np.count_nonzero(per_fake))
        density_hits += int(per_fake.sum())
        covered |= inside.any(axis=0)
        recalled |= (dist < fake_radii[start:stop, None]).any(axis=0)

    n_fake = fake_x.shape[0]
    return {
        "precision": precise / n_fake,
        "recall": float(recalled.mean()),
        "density": density_hits / (k * n_fake),
        "coverage": float(covered.mean()),
    }


def _check_args(real_x: np.ndarray, fake_x: np.ndarray, k: int, batch_size: int) -> None:
    if real_x.shape[1] != fake_x.shape[1]:
        raise UsageError(f"real and fake must have the same dimension; got {real_x.shape[1]} "
                         f"and {fake_x.shape[1]}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise UsageError(f"k must be a positive integer; got {k!r}")
    smaller = min(real_x.shape[0], fake_x.shape[0])
    if smaller <= k:
        raise UsageError(f"k={k} needs more than k points in each set; got {real_x.shape[0]} real and "
                         f"{fake_x.shape[0]} fake (use a smaller k)")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise UsageError(f"batch_size must be a positive integer; got {batch_size!r}")


def _distances(a: np.ndarray, a_sq: np.ndarray, b: np.ndarray, b_sq: np.ndarray, float32: bool) -> np.ndarray:
    """Euclidean distances (len(a), len(b)) evaluated like scikit-learn (rounded to float32 if asked)."""
    sq = -2.0 * (a @ b.T)
    sq += b_sq[None, :]
    sq += a_sq[:, None]
    out = sq.astype(np.float32) if float32 else sq
    np.maximum(out, 0.0, out=out)
    return np.sqrt(out, out=out)


def _knn_radii(x: np.ndarray, x_sq: np.ndarray, k: int, float32: bool) -> np.ndarray:
    """Distance from each row to its k-th nearest other row, rounded to float32 if asked (see `prdc`)."""
    n = x.shape[0]
    n_cand = min(n, k + 1 + _EXTRA_CANDIDATES)
    candidates = _faiss_candidates(x, n_cand)
    radii = np.empty(n, dtype=np.float32 if float32 else np.float64)
    step = max(1, _GATHER_ELEMENTS // (n_cand * x.shape[1]))
    for start in range(0, n, step):
        rows = np.arange(start, min(n, start + step))
        cand = candidates[rows]
        dots = np.einsum("rd,rcd->rc", x[rows], x[cand])
        sq = -2.0 * dots
        sq += x_sq[cand]
        sq += x_sq[rows][:, None]
        dist = sq.astype(np.float32) if float32 else sq
        np.maximum(dist, 0.0, out=dist)
        np.sqrt(dist, out=dist)
        dist[cand == rows[:, None]] = 0.0
        radii[rows] = np.partition(dist, k, axis=1)[:, k]
    return radii


def _faiss_candidates(x: np.ndarray, n_cand: int) -> np.ndarray:
    """Indices of the `n_cand` nearest rows of each row (itself included), exact faiss L2 search."""
    faiss = require("faiss", None, "prdc k-NN radii", package="faiss-cpu")
    centred = np.ascontiguousarray(x - x.mean(axis=0), dtype=np.float32)
    index = faiss.IndexFlatL2(centred.shape[1])
    index.add(centred)
    _, idx = index.search(centred, n_cand)
    return idx.astype(np.int64)
