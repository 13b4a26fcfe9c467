"""Facility location over partitions of the pool (SCALE.md pattern C, section 4.5), here or on Ray.

The pool is split into m parts, by spherical k-means (``partition="kmeans"``: neighbours stay together)
or uniformly at random (``"random"``). Each part is held by one :class:`FacilityPartition` (an actor
on Ray) that builds its own kNN graph and inverse-density weights and runs the sparse greedy of
:mod:`quadiv.select._facility_location` with the **global** normalisers: W = the sum of every part's
weights, the global budget k and the pool's quality ranks, so the gains of different parts are on one
scale. Two merges:

- ``merge="gains"`` (k-means parts): f_G(S) = sum_p f_p(S n P_p) when no kNN edge crosses a part, each
  part's greedy gains are non-increasing (submodularity), and the centralised greedy on that sum takes
  the largest gain of any part at each step; so a k-way merge of the parts' gain lists that asks a part
  for more picks whenever its list runs out is exactly that greedy. The loss against one machine is the
  similarity of the kNN edges between parts. ``objective`` is the sum of the accepted gains.
- ``merge="greedi"`` (GreeDi, Mirzasoleiman, Karbasi, Sarkar and Krause, NIPS 2013, Algorithm 2; with
  random parts RandGreeDi, Barbosa, Ene, Nguyen and Ward, ICML 2015, Algorithm 1): every part proposes
  its first k greedy picks; one more greedy (dense, exact lazy greedy) chooses k of the m k proposals on
  the exact objective f over a uniform sample of ``ground_rows`` items (SCALE.md 4.5, item 3), and the
  better of that and the best single part's proposals, both scored on the same sample, is returned.
  ``objective`` is that sample estimate of f.

RandGreeDi's bound, E f(S) >= (1 - 1/e)/2 OPT, holds for one function f that every round maximises;
here each part maximises the coverage of its own items, so it describes the scheme, not a proof for
this objective. A k-means partition has no constant-factor bound (Mirrokni and Zadimoghaddam, STOC
2015, show none exists for non-random composable core-sets) but the better objective in practice
(SCALE.md 4.5, item 5), which is why the result records ``params["sample_check"]``: the same scheme and
the single-machine sparse greedy on a uniform sample of ``check_rows`` items, both scored by
:func:`facility_location_objective`.
"""
from __future__ import annotations

import functools
import heapq
import math

import numpy as np

from quadiv.geometry import kmeans, knn_graph
from quadiv.select._base import unit_quality
from quadiv.select._facility_location import (
    SparseGreedy,
    _dense_greedy,
    _density_weights,
    _exact_objective,
    _inverse,
    _neighbour_density,
    _total_weight,
)
from quadiv.select._shards import local_actors, open_actors

PARTITIONS = ("none", "kmeans", "random")
MERGES = ("auto", "gains", "greedi")
ROWS_PER_PARTITION = 1_000_000  # "auto" parts: at least one per this many rows (one worker's share)
_SLACK = 2.0  # a part's first gain list holds ceil(2 k n_p / n) picks (more on demand)


class FacilityPartition:
    """One part of the pool: its items' kNN graph, weights and a resumable sparse greedy over them.

    Built in two steps so that a driver can hold many parts and build a few at a time (each build
    holds its rows' embeddings and the kNN index; a built part keeps only its graph)."""

    def __init__(self, rows: np.ndarray, q: np.ndarray, *, n_neighbors: int, knn: str, n_probe: int, seed: int,
                 n_density: int | None):
        self.rows, self.q = rows, q
        self.graph = {"n_neighbors": n_neighbors, "method": knn, "n_probe": n_probe, "seed": seed}
        self.n_density = n_density
        self.greedy: SparseGreedy | None = None

    def build(self, X: np.ndarray) -> float:
        """The kNN graph and weights of this part's rows ``X``; returns sum_i w_i (the part's size when unweighted)."""
        self.nbr, self.sim = knn_graph(np.ascontiguousarray(X, dtype=np.float32), **self.graph)
        self.w = (None if self.n_density is None else
                  _inverse(_neighbour_density(self.nbr, self.sim, np.arange(len(self.rows)), self.n_density)))
        return self.weight_sum()

    def weight_sum(self) -> float:
        """sum_i w_i over this part (its size when unweighted)."""
        return float(len(self.rows)) if self.w is None else float(self.w.sum())

    def weights(self, local: np.ndarray) -> np.ndarray:
        """w_i of the given local rows (1 when unweighted)."""
        return np.ones(len(local)) if self.w is None else self.w[local]

    def start(self, w_cov: float, w_q: float) -> None:
        """Begin the greedy with the pool's normalisers (w_cov = (1 - t) / W, w_q = t / k)."""
        self.greedy = SparseGreedy(self.nbr, self.sim, self.q, w_cov, w_q, self.w)
        self.nbr = self.sim = None  # the greedy holds the graph by row and by column

    def more(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        """The part's next ``count`` picks (pool indices) and their gains, non-increasing."""
        picks, gains = self.greedy.take(count)
        return self.rows[picks], gains


def partitioned_facility_location(
    X: np.ndarray, budget: int, q: np.ndarray, t: float, seed: int, *, engine, partition: str,
    partitions: int, merge: str, graph: dict, n_density: int | None, ground_rows: int, check_rows: int,
) -> tuple[np.ndarray, np.ndarray, float, dict]:
    """(picks, gains, objective, params) of the module docstring's scheme; X unit rows, q unit quality.

    ``graph``: knn_graph's n_neighbors, knn, n_probe; ``n_density``: None for uniform weights.
    """
    n = X.shape[0]
    m = _part_count(n, partitions, engine)
    merge = ("gains" if partition == "kmeans" else "greedi") if merge == "auto" else merge
    labels = _labels(X, m, partition, seed, engine)
    members = [np.flatnonzero(labels == p) for p in range(int(labels.max()) + 1)]
    factory = functools.partial(FacilityPartition, seed=seed, n_density=n_density, **graph)
    with open_actors(engine, factory, [(rows, q[rows]) for rows in members]) as call:
        total = _total_weight(_build(call, engine, X, members), n)
        call("start", [((1.0 - t) / total, t / budget)] * len(members))
        if merge == "gains":
            picks, gains = _merge_gains(call, [len(rows) for rows in members], budget, n)
            objective = float(gains.sum())
            extra = {}
        else:
            picks, gains, objective, extra = _greedi_round(X, q, t, budget, seed, call, members, labels, ground_rows)
    params = {"partition": partition, "partitions": len(members), "merge": merge, "seed": seed,
              "partition_rows": [int(min(map(len, members))), int(max(map(len, members)))],
              "guarantee": _guarantee(partition, merge), **extra}
    if check_rows:
        params["sample_check"] = _sample_check(X, budget, q, t, seed, partition=partition, partitions=len(members),
                                               merge=merge, graph=graph, n_density=n_density,
                                               ground_rows=ground_rows, rows=check_rows)
    return picks, gains, objective, params


def _build(call, engine, X: np.ndarray, members: list[np.ndarray]) -> np.ndarray:
    """Build the parts, as many at a time as the engine runs at once (one here); their weight sums."""
    wave = engine.parallelism() if engine is not None else 1
    sums: list[float] = []
    for lo in range(0, len(members), wave):
        which = list(range(lo, min(len(members), lo + wave)))
        parts = [(engine.rows(X, members[p]) if engine is not None else X[members[p]],) for p in which]
        sums.extend(call("build", parts, which=which))
    return np.asarray(sums)


def _part_count(n: int, partitions: int, engine) -> int:
    """The number of parts: ``partitions`` when given, else one per worker and per 1M rows."""
    if partitions:
        return max(1, min(int(partitions), n))
    workers = engine.parallelism() if engine is not None else 1
    return max(1, min(n, max(workers, math.ceil(n / ROWS_PER_PARTITION))))


def _labels(X: np.ndarray, m: int, partition: str, seed: int, engine=None) -> np.ndarray:
    """Part of each row: spherical k-means clusters, or a seeded uniform split into m equal parts."""
    if m == 1:
        return np.zeros(X.shape[0], dtype=np.int64)
    if partition == "kmeans":
        return kmeans(X, m, seed=seed, engine=engine)[0]
    labels = np.empty(X.shape[0], dtype=np.int64)
    labels[np.random.default_rng(seed).permutation(X.shape[0])] = np.arange(X.shape[0]) % m
    return labels


def _merge_gains(call, sizes: list[int], budget: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The k largest gains of all parts' greedy sequences in order (ties: lowest pool index)."""
    chunk = [max(1, min(size, math.ceil(_SLACK * budget * size / n))) for size in sizes]
    lists = call("more", [(c,) for c in chunk])
    heads = [0] * len(sizes)
    taken = [len(rows) for rows, _ in lists]
    heap = [(-gains[0], int(rows[0]), p) for p, (rows, gains) in enumerate(lists) if len(rows)]
    heapq.heapify(heap)
    picks, gains = [], []
    while len(picks) < budget:
        neg, row, p = heapq.heappop(heap)
        picks.append(row)
        gains.append(-neg)
        heads[p] += 1
        if heads[p] == len(lists[p][0]) and taken[p] < sizes[p]:  # its list ran out: ask it for more
            lists[p] = call("more", [(chunk[p],)], which=[p])[0]
            heads[p] = 0
            taken[p] += len(lists[p][0])
        if heads[p] < len(lists[p][0]):
            heapq.heappush(heap, (-lists[p][1][heads[p]], int(lists[p][0][heads[p]]), p))
    return np.asarray(picks, dtype=np.int64), np.asarray(gains)


def _greedi_round(X, q, t, budget, seed, call, members, labels, ground_rows) -> tuple:
    """GreeDi's second round over the parts' proposals, on the exact objective over a sample of items."""
    proposals = [rows for rows, _ in call("more", [(budget,)] * len(members))]
    n = X.shape[0]
    ground = np.sort(np.random.default_rng(seed + 1).choice(n, min(n, int(ground_rows)), replace=False))
    part = labels[ground]
    w = np.empty(ground.size)
    mine = [part == p for p in range(len(members))]
    for p, weights in enumerate(call("weights", [(np.searchsorted(rows, ground[mine[p]]),)
                                                  for p, rows in enumerate(members)])):
        w[mine[p]] = weights
    G = X[ground]
    union = np.concatenate(proposals)
    chosen, gains, _ = _dense_greedy(X[union], budget, q[union], t, w=w, ground=G)
    best = (float(gains.sum()), union[chosen], gains)
    for rows in proposals:  # each part's own proposals, scored on the same sample
        if len(rows) == budget:
            value = _sample_objective(X[rows], G, w, q[rows], t, budget)
            if value > best[0]:
                best = (value, rows, np.full(budget, np.nan))
    return best[1], best[2], best[0], {"ground_rows": int(ground.size), "proposals": int(union.size)}


def _sample_objective(C: np.ndarray, G: np.ndarray, w: np.ndarray, q: np.ndarray, t: float, k: int) -> float:
    """(1 - t) sum_i w_i max_j (g_i . c_j)^2 / sum_i w_i + t/k sum_j q_j over sample rows G and picks C."""
    s = G @ C.T
    cover = np.max(s * s, axis=1, initial=0.0)
    return (1.0 - t) * float(cover @ w) / _total_weight(w, len(w)) + t * float(q.sum()) / k


def _guarantee(partition: str, merge: str) -> str:
    """The bound that applies to a scheme, in words (see the module docstring)."""
    if partition == "random" and merge == "greedi":
        return ("RandGreeDi (Barbosa et al. 2015): (1 - 1/e)/2 of the optimum in expectation when every round "
                "maximises one function; here each part covers its own items, see sample_check")
    if merge == "gains":
        return ("exact greedy on the objective without the kNN similarities that cross parts; "
                "no worst-case bound against one machine, see sample_check")
    return "GreeDi on a non-random partition: no constant-factor bound, see sample_check"


def _sample_check(X, budget, q, t, seed, *, rows: int, graph: dict, n_density, **scheme) -> dict:
    """The scheme (here, one process) against the single-machine sparse greedy on a uniform sample of
    ``rows`` items with the budget scaled to it, both scored by facility_location_objective."""
    n = X.shape[0]
    sample = np.sort(np.random.default_rng(seed + 2).choice(n, min(n, int(rows)), replace=False))
    k = max(1, min(sample.size, round(budget * sample.size / n)))
    Xs, qs = X[sample], q[sample]
    parts = min(scheme.pop("partitions"), max(1, sample.size // 1000))
    mine, _, _, _ = partitioned_facility_location(Xs, k, qs, t, seed, engine=None, partitions=parts, graph=graph,
                                                  n_density=n_density, check_rows=0, **scheme)
    with local_actors(functools.partial(FacilityPartition, seed=seed, n_density=n_density, **graph),
                      [(np.arange(sample.size), qs)]) as call:
        total = _total_weight(np.asarray(call("build", [(Xs,)])), sample.size)
        call("start", [((1.0 - t) / total, t / k)])
        single = call("more", [(k,)])[0][0]
    # facility_location_objective's computation, its exact-kNN weights computed once for both selections
    ground = np.arange(sample.size)
    w = np.ones(sample.size) if n_density is None else _density_weights(Xs, n_density)
    qs_ranked = unit_quality(qs, sample.size)

    def score(picks):
        return _exact_objective(Xs, np.asarray(picks, dtype=np.int64), qs_ranked, t, k, ground, w)

    local = score(single)
    return {"rows": int(sample.size), "budget": k, "partitions": parts,
            "ratio": float(score(mine) / local) if local > 0 else 1.0}
