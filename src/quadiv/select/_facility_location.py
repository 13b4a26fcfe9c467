"""Quality-augmented, optionally weighted facility location: exact greedy (dense) or kNN-graph greedy.

Objective, for a selection S of the budget k out of n items with unit rows x_i, unit quality
q~ = :func:`unit_quality` (percentile ranks in [0, 1]) and item weights w_i >= 0:

    f(S) = (1 - t) * sum_{i=1..n} w_i max_{j in S} s(i, j) / sum_i w_i  +  t * (1/k) * sum_{j in S} q~_j,
    s(i, j) = (x_i . x_j)^2   (0 for S empty).

Both terms lie in [0, 1] whatever n and k (the first is the weighted mean coverage of the pool, the
second the mean quality of the budget), so the tradeoff t means the same at every scale. The coverage
term is the facility-location function (Cornuejols, Fisher and Nemhauser 1977; used for data selection
by Bhatt et al. 2024, "An Experimental Design Framework for Label-Efficient Supervised Finetuning of
Large Language Models", Findings of ACL, Sec. 3) and the similarity is the one apricot uses for
``metric='cosine'`` (Schreiber, Bilmes and Noble 2020, "apricot: Submodular selection for data
summarization in Python", JMLR 21(161); apricot.utils._calculate_pairwise_distances turns the cosine
distance 1 - c into the similarity 1 - (1 - (1 - (1 - c))^2) = c^2).

``weighting``:

- "inverse-density" (default): w_i = 1 / rho_i with rho_i = (1/m) sum_{j in N_m(i)} s(i, j), the mean
  similarity of i to its m = ``n_density`` (10) nearest other items (largest x_i . x_j); items with
  rho_i = 0 (zero rows, e.g. empty texts) get w_i = 0. Every region then weighs about the same whatever
  the number of items in it, so f covers the *space*, and ``tradeoff`` = 0 means "as diverse as
  possible" as it does for the other methods. Weighting the items is the (weighted) facility location
  of Krause and Golovin 2014 ("Submodular Function Maximization", in Tractability: Practical
  Approaches to Hard Problems) with benefits M_ij = w_i s(i, j) >= 0; the inverse-density weights are
  quadiv's choice, measured on AlpacaEval and GSM8K answers (bench/bench_select_real.py,
  BENCHMARKS.md): with uniform weights the t = 0 picks follow the density of the pool and are no more
  Vendi-diverse than a random sample (static embeddings, budget 400: Vendi 26.7 against 24.9 random,
  while the top-quality answers reach 27.8, so raising t *raised* Vendi); weighted, t = 0 reaches 41.7.
  Measured against apricot's (uniform) objective at n = 20k, k = 200 (bench/bench_facility_location.py):
  1.0026 of apricot's on a Gaussian mixture (sparse mode); on isotropic Gaussian rows the dense mode
  reaches 0.981 with these weights and 1.000 with uniform ones.
- "uniform": w_i = 1, so at t = 0 f is apricot's objective divided by n (coverage of the *data*,
  i.e. a representative rather than a diverse sample).

With any w >= 0 the coverage term is monotone submodular and adding the modular quality term keeps it
so (the relevance + diversity form of Lin and Bilmes 2011, "A Class of Submodular Functions for
Document Summarization", Sec. 2), so greedy is within 1 - 1/e of the optimum (Nemhauser, Wolsey and
Fisher 1978) and its marginal gains never increase.

Dense mode (exact greedy, the same picks as naive greedy): lazy greedy (Minoux 1978) with gains
evaluated a block of candidates at a time, gain(j) = (1-t)/W * sum_i w_i max(0, s(i,j) - c_i) + t/k q~_j
with c_i = max_{l in S} s(i, l) and W = sum_i w_i; the weights enter as weighted similarities
w_i s(i, j) and weighted coverages w_i c_i, since w_i max(0, s - c) = max(0, w_i s - w_i c). The first
gains come from the d x d weighted second-moment matrix, sum_i w_i (x_i . x_j)^2 = x_j^T (X^T W X) x_j;
later ones from the stored n x n similarity matrix while it takes <= 256 MB, else from on-the-fly
products (memory O(n d), time O(n d) per evaluation; with flat similarity spectra lazy greedy
re-evaluates a large share of the pool per step, which is why "auto" switches to the sparse mode above
8192 items). The densities come from an exact kNN search (faiss).

Sparse mode (large n): s(i, j) is kept only for j in kNN(i) and j = i (see :func:`quadiv.geometry.knn_graph`),
zero elsewhere, and the densities are read off the same graph. That graph objective f_G is itself a
(weighted) facility location, a lower bound of f, and greedy maximises it exactly: every gain is kept
up to date (when c_i rises, only the gains of the k + 1 candidates that can cover i change), so each
step is one argmax. ``objective`` is then f_G(S); use :func:`facility_location_objective` for the exact
f(S) (or an estimate on a sample of rows). The graph holds the coverage when items have close
neighbours, as embeddings of real data do (1.0026 of apricot's exact-greedy objective on a 20k Gaussian
mixture); on isotropic random rows, where every similarity is about equally small, it does not (0.952).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import numpy as np

from quadiv.errors import UsageError
from quadiv.geometry import knn_graph, top_inner_products, unit_rows
from quadiv.select._base import Selection, Selector, register, unit_quality

DENSE_MAX_N = 8192  # "auto" mode: dense (exact) greedy up to this many items, sparse above
_FIRST_BLOCK, _MAX_BLOCK = 16, 1024  # candidates whose gains dense lazy greedy evaluates in one product
_STORED_SIM_BYTES = 256 * 2**20  # dense mode keeps the n x n similarity matrix up to this size
_ROW_BLOCK = 4096  # rows of X per matrix product when evaluating the objective
WEIGHTINGS = ("uniform", "inverse-density")


@register
class FacilityLocation(Selector):
    """Greedy maximiser of quality-augmented facility location (see the module docstring).

    ``mode``: "dense" (exact greedy), "sparse" (greedy on a kNN graph) or "auto" (dense for
    n <= 8192). ``n_neighbors``, ``knn`` ("auto", "exact", "ivf") and ``n_probe`` set the
    sparse graph; ``seed`` reaches the IVF k-means and the partition. ``partition``: "none" (one
    graph over the pool), "kmeans" or "random" (sparse greedy per part with the pool's normalisers,
    then a merge: see :mod:`quadiv.select._fl_partitions`; the Ray engine's default is "kmeans", one
    part per worker and per 1M rows unless ``partitions`` is given, for pools in sparse mode; a pool small
    enough for the dense mode runs here); ``merge``: "gains" (exact merge
    of the parts' gains; k-means parts), "greedi" (GreeDi's second round on a sample of
    ``ground_rows`` items) or "auto" (gains for k-means, greedi for random parts); ``check_rows``:
    size of the sample on which a partitioned run also reports its objective against one machine's
    greedy (0: no check). ``weighting``: "inverse-density" (default;
    w_i = 1 / rho_i over the ``n_density`` nearest other items; in sparse mode at most the
    n_neighbors - 1 of the graph) or "uniform" (apricot's objective). ``select(..., cache=)``: a dict
    the caller keeps for one embedding matrix, in which the n x n similarities (dense) or the kNN graph
    (sparse), and the item weights, are stored on the first call and reused by later calls (a sweep over
    tradeoffs builds them once).
    """

    name: ClassVar[str] = "facility-location"
    data_names = ("cache",)  # a dict reused across calls on one X, given to select()
    engines = frozenset({"local", "ray"})  # on Ray: over partitions (pattern C)

    def __init__(self, mode: str = "auto", n_neighbors: int = 32, knn: str = "auto", n_probe: int = 2,
                 weighting: str = "inverse-density", n_density: int = 10, partition: str = "none",
                 partitions: int = 0, merge: str = "auto", ground_rows: int = 20_000, check_rows: int = 20_000):
        from quadiv.select._fl_partitions import MERGES, PARTITIONS

        if mode not in ("auto", "dense", "sparse"):
            raise UsageError(f"facility-location mode must be 'auto', 'dense' or 'sparse', got '{mode}'")
        _check_weighting(weighting, n_density)
        if partition not in PARTITIONS:
            raise UsageError(f"facility-location partition must be one of {', '.join(PARTITIONS)}, got '{partition}'")
        if merge not in MERGES:
            raise UsageError(f"facility-location merge must be one of {', '.join(MERGES)}, got '{merge}'")
        if partition == "random" and merge == "gains":
            raise UsageError("merge 'gains' needs parts that keep neighbours together: use partition 'kmeans', "
                             "or merge 'greedi' with random parts")
        for label, value, least in (("partitions", partitions, 0), ("ground_rows", ground_rows, 1),
                                    ("check_rows", check_rows, 0)):
            if int(value) != value or value < least:
                raise UsageError(f"{label} must be a whole number >= {least}, got {value}")
        self.mode, self.n_neighbors, self.knn, self.n_probe = mode, n_neighbors, knn, n_probe
        self.weighting, self.n_density = weighting, int(n_density)
        self.partition, self.partitions, self.merge = partition, int(partitions), merge
        self.ground_rows, self.check_rows = int(ground_rows), int(check_rows)

    def _select(self, X, budget, quality, tradeoff, groups, seed, cache: dict | None = None,
                engine=None) -> Selection:
        X = unit_rows(X, engine=engine)  # float32 for faiss
        n = X.shape[0]
        q = unit_quality(quality, n)
        dense = self.mode == "dense" or (self.mode == "auto" and n <= DENSE_MAX_N)
        weighted = self.weighting == "inverse-density"
        # on Ray a pool is split only where the local path would use the kNN graph: a pool that takes the
        # exact dense greedy is small enough for this process, and keeps the local picks
        partition = "kmeans" if engine is not None and self.partition == "none" and not dense else self.partition
        if partition != "none":
            return self._partitioned(X, budget, q, tradeoff, seed, engine, partition)
        if dense:
            w = _cached(cache, X, ("density", self.n_density),
                             lambda: _density_weights(X, self.n_density)) if weighted else None
            sim_rows = _cached(cache, X, ("dense", self.n_density) if weighted else ("dense",),
                                    lambda: _similarity_rows(X, w))
            indices, gains, cover = _dense_greedy(X, budget, q, tradeoff, sim_rows, w)
            params = {"mode": "dense"}
        else:
            key = ("sparse", self.n_neighbors, self.knn, self.n_probe, seed)
            nbr, sim = _cached(cache, X, key, lambda: knn_graph(
                X, self.n_neighbors, method=self.knn, n_probe=self.n_probe, seed=seed))
            w = _inverse(_neighbour_density(nbr, sim, np.arange(n), self.n_density)) if weighted else None
            indices, gains, cover = _sparse_greedy(nbr, sim, budget, q, tradeoff, w)
            params = {"mode": "sparse", "n_neighbors": int(nbr.shape[1]), "knn": self.knn,
                      "n_probe": self.n_probe}
        params.update(tradeoff=tradeoff, weighting=self.weighting)
        if weighted:
            params["n_density"] = self.n_density
        coverage = float(cover.sum(dtype=np.float64)) / _total_weight(w, n)
        objective = (1.0 - tradeoff) * coverage + tradeoff * float(q[indices].mean())
        return Selection(indices=indices, objective=objective, method=self.name, params=params, gains=gains)

    def _partitioned(self, X, budget, q, tradeoff, seed, engine, partition) -> Selection:
        """Sparse greedy per part and a merge (pattern C), here or on ``engine``."""
        from quadiv.select._fl_partitions import partitioned_facility_location  # it builds on this module

        weighted = self.weighting == "inverse-density"
        picks, gains, objective, params = partitioned_facility_location(
            X, budget, q, tradeoff, seed, engine=engine, partition=partition, partitions=self.partitions,
            merge=self.merge, graph={"n_neighbors": self.n_neighbors, "knn": self.knn, "n_probe": self.n_probe},
            n_density=self.n_density if weighted else None, ground_rows=self.ground_rows,
            check_rows=self.check_rows)
        params = {"mode": "sparse", "n_neighbors": self.n_neighbors, "knn": self.knn, "n_probe": self.n_probe,
                  **params, "tradeoff": tradeoff, "weighting": self.weighting}
        if weighted:
            params["n_density"] = self.n_density
        if engine is not None:
            params["engine"] = engine.name
        return Selection(indices=picks, objective=objective, method=self.name, params=params, gains=gains)



def facility_location_objective(
    X: np.ndarray,
    indices: np.ndarray,
    quality: np.ndarray | None = None,
    tradeoff: float = 0.0,
    budget: int | None = None,
    rows: np.ndarray | None = None,
    weighting: str = "inverse-density",
    n_density: int = 10,
) -> float:
    """Exact f(S) of the module docstring for S = ``indices`` (budget k defaults to len(indices)).

    ``weighting`` and ``n_density`` as for :class:`FacilityLocation` (densities from an exact kNN search
    of the whole pool). With ``rows`` the coverage mean runs over those rows only: an unbiased estimate
    of the coverage term when they are a uniform sample and the weighting is uniform (a ratio estimate
    when weighted), at cost O(|rows| |S| d) instead of O(n |S| d).
    """
    _check_weighting(weighting, n_density)
    X = unit_rows(X)
    n = X.shape[0]
    indices = np.asarray(indices, dtype=np.int64)
    k = len(indices) if budget is None else int(budget)
    q = unit_quality(None if quality is None else np.asarray(quality, dtype=np.float64), n)
    ground = np.arange(n) if rows is None else np.asarray(rows, dtype=np.int64)
    weighted = weighting == "inverse-density"
    w = _density_weights(X, int(n_density), ground) if weighted else np.ones(ground.size)
    return _exact_objective(X, indices, q, tradeoff, k, ground, w)


def _exact_objective(X: np.ndarray, indices: np.ndarray, q: np.ndarray, t: float, k: int, ground: np.ndarray,
                     w: np.ndarray) -> float:
    """f(S) of unit X over the ``ground`` rows with their weights ``w`` and unit quality ``q``, budget k."""
    chosen = X[indices]
    total = 0.0
    for lo in range(0, ground.size, _ROW_BLOCK):
        s = X[ground[lo:lo + _ROW_BLOCK]] @ chosen.T
        total += float(np.max(s * s, axis=1, initial=0.0) @ w[lo:lo + _ROW_BLOCK])
    return (1.0 - t) * total / _total_weight(w, ground.size) + t * float(q[indices].sum()) / k


def _check_weighting(weighting: str, n_density: int) -> None:
    """Raise a UsageError unless ``weighting`` is known and ``n_density`` a positive whole number."""
    if weighting not in WEIGHTINGS:
        raise UsageError(
            f"facility-location weighting must be 'uniform' or 'inverse-density', got '{weighting}'")
    if int(n_density) != n_density or n_density < 1:
        raise UsageError(f"n_density must be a positive whole number of neighbours, got {n_density}")


def _density_weights(X: np.ndarray, n_density: int, rows: np.ndarray | None = None) -> np.ndarray:
    """w_i = 1 / rho_i (0 where rho_i = 0) for the given rows of unit X (all by default), exact kNN."""
    ground = np.arange(X.shape[0]) if rows is None else rows
    sims, nbr = top_inner_products(X[ground], X, min(n_density + 1, X.shape[0]))
    return _inverse(_neighbour_density(nbr, sims, ground, n_density))


def _neighbour_density(nbr: np.ndarray, sim: np.ndarray, own: np.ndarray, n_density: int) -> np.ndarray:
    """rho_i: mean (x_i . x_j)^2 over the first ``n_density`` neighbours j != i of each row (best first).

    ``own[r]`` is the item of row r; missing neighbours (index -1) are skipped, and the mean runs over
    the neighbours found when a row has fewer.
    """
    valid = (nbr >= 0) & (nbr != own[:, None])
    used = valid & (np.cumsum(valid, axis=1) <= n_density)
    total = np.where(used, np.square(sim, dtype=np.float64), 0.0).sum(axis=1)
    return total / np.maximum(used.sum(axis=1), 1)


def _inverse(rho: np.ndarray) -> np.ndarray:
    """1 / rho where rho > 0, else 0."""
    return np.divide(1.0, rho, out=np.zeros_like(rho), where=rho > 0)


def _total_weight(w: np.ndarray | None, n: int) -> float:
    """sum_i w_i (n when unweighted), or 1 when every weight is 0 (the coverage term is then 0)."""
    total = float(n) if w is None else float(w.sum())
    return total if total > 0 else 1.0


def _dense_greedy(
    X: np.ndarray, budget: int, q: np.ndarray, t: float, sim_rows: Callable | None = None,
    w: np.ndarray | None = None, ground: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact lazy greedy (Minoux 1978) with blocked gain evaluation; returns (picks, gains, coverage).

    The candidates are the rows of X; the items they cover are the rows of ``ground`` (default X) with
    weights ``w`` (None: all 1); the coverage returned is w_i c_i. ``sim_rows``:
    :func:`_similarity_rows` of X and w, when the caller already has it.
    """
    ground = X if ground is None else ground
    w_cov, w_q = (1.0 - t) / _total_weight(w, ground.shape[0]), t / budget
    bound = w_cov * _first_coverage_gains(X, w, ground) + w_q * q  # exact at step 0
    sim_rows = _similarity_rows(X, w, ground) if sim_rows is None else sim_rows
    fresh = np.zeros(X.shape[0], dtype=np.int64)  # step at which bound[j] was last made exact
    cover = np.zeros(ground.shape[0], dtype=np.float32)
    picks, gains = np.empty(budget, dtype=np.int64), np.empty(budget)
    for step in range(budget):
        while True:
            best = int(np.argmax(bound))
            if fresh[best] == step:
                break
            cands = _candidates(bound, fresh == step, best)
            bound[cands] = w_cov * _coverage_gains(sim_rows(cands), cover) + w_q * q[cands]
            fresh[cands] = step
        picks[step], gains[step] = best, bound[best]
        np.maximum(cover, sim_rows(np.array([best]))[0], out=cover)
        bound[best] = -np.inf
    return picks, gains, cover


def _candidates(bound: np.ndarray, exact: np.ndarray, best: int) -> np.ndarray:
    """Stale candidates that could still beat the best exact gain of this step, largest bounds first.

    All of them when some gain is exact already (at most _MAX_BLOCK per round), else the top
    _FIRST_BLOCK; ``best`` (the largest bound, stale) is always among them.
    """
    stale = np.where(exact, -np.inf, bound)
    if exact.any():
        stale[stale < np.max(bound[exact])] = -np.inf
        m = min(int(np.count_nonzero(np.isfinite(stale))), _MAX_BLOCK)
    else:
        m = _FIRST_BLOCK
    m = max(1, min(m, stale.size))
    top = np.argpartition(-stale, m - 1)[:m]
    return np.union1d(top[np.isfinite(stale[top])], [best])


def _first_coverage_gains(X: np.ndarray, w: np.ndarray | None = None, ground: np.ndarray | None = None) -> np.ndarray:
    """sum_i w_i (g_i . x_j)^2 over the rows g_i of ``ground`` (default X) for every row x_j of X, as
    x_j^T (G^T W G) x_j: O(n d^2) instead of O(n^2 d)."""
    ground = X if ground is None else ground
    Gt = ground.T.astype(np.float64)
    moment = (Gt if w is None else Gt * w) @ ground
    out = np.empty(X.shape[0])
    for lo in range(0, X.shape[0], _ROW_BLOCK):
        rows = X[lo:lo + _ROW_BLOCK].astype(np.float64)
        out[lo:lo + _ROW_BLOCK] = np.einsum("ij,ij->i", rows @ moment, rows)
    return out


def _similarity_rows(X: np.ndarray, w: np.ndarray | None = None,
                     ground: np.ndarray | None = None) -> Callable[[np.ndarray], np.ndarray]:
    """A function giving rows w_i s(j, i) = w_i (x_j . g_i)^2 over the rows g_i of ``ground`` (default X;
    w = 1 when None) as a fresh float32 array.

    The matrix is computed once when it takes at most 256 MB, else rows are recomputed on demand.
    """
    ground = X if ground is None else ground
    w32 = None if w is None else w.astype(np.float32)
    if 4 * X.shape[0] * ground.shape[0] <= _STORED_SIM_BYTES:
        full = X @ ground.T
        np.multiply(full, full, out=full)
        if w32 is not None:
            np.multiply(full, w32, out=full)
        return lambda rows: full[rows]

    def compute(rows: np.ndarray) -> np.ndarray:
        s = X[rows] @ ground.T
        np.multiply(s, s, out=s)
        return s if w32 is None else np.multiply(s, w32, out=s)

    return compute


def _coverage_gains(s: np.ndarray, cover: np.ndarray) -> np.ndarray:
    """sum_i max(0, s(i, j) - c_i) for each row j of the candidates' similarity rows ``s`` (overwritten)."""
    np.subtract(s, cover, out=s)
    np.maximum(s, 0.0, out=s)
    return s.sum(axis=1, dtype=np.float64)


def _sparse_greedy(
    nbr: np.ndarray, sim: np.ndarray, budget: int, q: np.ndarray, t: float, w: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact greedy on the kNN-graph objective f_G, gains kept current; returns (picks, gains, coverage).

    ``w``: item weights (None: all 1), applied as weighted similarities w_i s(i, j); the coverage
    returned is w_i c_i.
    """
    greedy = SparseGreedy(nbr, sim, q, (1.0 - t) / _total_weight(w, nbr.shape[0]), t / budget, w)
    picks, gains = greedy.take(budget)
    return picks, gains, greedy.cover


class SparseGreedy:
    """Greedy on the kNN-graph objective, resumable: :meth:`take` makes the next picks.

    gain(j) = w_cov * sum_{i covered by j} max(0, w_i s(i, j) - c_i) + w_q * q_j with c_i = w_i times
    i's best similarity to the picks; after a pick, only the gains of the candidates that can cover an
    item whose c_i rose change. ``w_cov`` = (1 - t) / W and ``w_q`` = t / k carry the normalisers, which
    a partition of a larger pool takes from the whole pool.
    """

    def __init__(self, nbr: np.ndarray, sim: np.ndarray, q: np.ndarray, w_cov: float, w_q: float,
                 w: np.ndarray | None = None):
        n = nbr.shape[0]
        self.w_cov = w_cov
        self.row_j, self.row_s = _graph_rows(nbr, sim)
        if w is not None:
            self.row_s *= w.astype(np.float32)[:, None]
        self.col_ptr, self.col_i, self.col_s = _graph_columns(self.row_j, self.row_s)
        self.cover = np.zeros(n, dtype=np.float64)
        self.gain = w_cov * np.bincount(self.row_j.ravel(), weights=self.row_s.ravel(), minlength=n) + w_q * q
        self.left = n

    def take(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        """The next min(count, items left) picks and their marginal gains (non-increasing: f is submodular)."""
        count = min(int(count), self.left)
        picks, gains = np.empty(count, dtype=np.int64), np.empty(count)
        gain, cover = self.gain, self.cover
        for step in range(count):
            best = int(np.argmax(gain))
            picks[step], gains[step] = best, gain[best]
            gain[best] = -np.inf
            lo, hi = self.col_ptr[best], self.col_ptr[best + 1]
            i, s = self.col_i[lo:hi], self.col_s[lo:hi]
            raised = s > cover[i]
            i, new = i[raised], s[raised]
            if i.size == 0:
                continue
            old = cover[i]
            rs = self.row_s[i]
            drop = np.maximum(rs - old[:, None], 0.0) - np.maximum(rs - new[:, None], 0.0)
            np.subtract.at(gain, self.row_j[i].ravel(), self.w_cov * drop.ravel())
            cover[i] = new
        self.left -= count
        return picks, gains


def _graph_rows(nbr: np.ndarray, sim: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fixed-width rows: who can cover i (its neighbours and itself) and s(i, j) = (x_i . x_j)^2.

    Column 0 is i itself with s = 1; missing neighbours (index -1) and repeats of i become (i, 0), which
    add nothing to any gain or coverage.
    """
    n = nbr.shape[0]
    own = np.arange(n)[:, None]
    valid = (nbr >= 0) & (nbr != own)
    row_j = np.empty((n, nbr.shape[1] + 1), dtype=np.int32)
    row_j[:, 0] = own[:, 0]
    row_j[:, 1:] = np.where(valid, nbr, own)
    row_s = np.empty(row_j.shape, dtype=np.float32)
    row_s[:, 0] = 1.0
    row_s[:, 1:] = np.where(valid, np.square(sim), 0.0)
    return row_j, row_s


def _graph_columns(row_j: np.ndarray, row_s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The same graph by candidate: for j, the items i it covers and s(i, j), as CSC arrays."""
    n, width = row_j.shape
    flat_j = row_j.ravel()
    order = np.argsort(flat_j, kind="stable")
    col_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(flat_j, minlength=n), out=col_ptr[1:])
    return col_ptr, (order // width).astype(np.int32), row_s.ravel()[order]


def _cached(cache: dict | None, X: np.ndarray, key: tuple, build: Callable):
    """build() once per key when a cache is given, checking that the cache belongs to this X."""
    if cache is None:
        return build()
    kept = cache.setdefault("X", X)
    if kept is not X and (kept.shape != X.shape or not np.array_equal(kept, X)):
        raise UsageError("this facility-location cache holds another embedding matrix: use one cache per X")
    if key not in cache:
        cache[key] = build()
    return cache[key]
