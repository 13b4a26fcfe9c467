"""k-nearest-neighbour graphs on unit-normalised embeddings (cosine geometry), shared by selectors.

``knn_graph`` returns, for every item i, the ``n_neighbors`` items j with the largest inner product
x_i . x_j (i itself included, being its own nearest neighbour), as two (n, k) arrays sorted by
decreasing similarity. Two searches:

- ``exact``: brute force with faiss (blocked matrix products), O(n^2 d).
- ``ivf``: an inverted-file search (Jegou, Douze and Schmid 2011, "Product quantization for nearest
  neighbor search", Sec. III-A). Spherical k-means on a sample gives L = round(sqrt(p n)) centroids; each
  item lives in the list of its nearest centroid and is searched in the lists of its ``n_probe`` = p
  nearest centroids. The list scans run as one dense product per list (queries of the list x members
  of the list), so the cost is O(n d (L + p n / L)) = O(n^1.5 d) in BLAS speed instead of O(n^2 d).
  Neighbours that sit only in lists a query does not probe are missed, so recall is below 1; where the
  probed lists hold fewer than k items the row is padded with index -1 and similarity -inf.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from quadiv._signals import block_sigint_here
from quadiv.errors import UsageError

EXACT_MAX_N = 8192  # "auto" search: exact up to this many items, IVF above
_SAMPLE_PER_LIST = 48  # k-means training points per centroid
_KMEANS_ITERS = 10
_ASSIGN_ROWS = 16_384  # rows per centroid-assignment call
_MERGE_ROWS = 65_536  # rows merged at a time (bounds the temporary memory of the IVF merge)


def knn_graph(
    X: np.ndarray, n_neighbors: int, method: str = "auto", n_probe: int = 2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Neighbour indices (n, k) int64 and inner products (n, k) float32 of unit rows X, best first.

    k = min(n_neighbors, n). ``method``: "exact", "ivf" or "auto" (exact for n <= 8192). Exact search
    and IVF: see the module docstring; ``n_probe`` and ``seed`` only matter for IVF.
    """
    n = X.shape[0]
    if int(n_neighbors) != n_neighbors or n_neighbors < 1:
        raise UsageError(f"n_neighbors must be a positive whole number, got {n_neighbors}")
    if method not in ("auto", "exact", "ivf"):
        raise UsageError(f"kNN method must be 'auto', 'exact' or 'ivf', got '{method}'")
    if int(n_probe) != n_probe or n_probe < 1:
        raise UsageError(f"n_probe must be a positive whole number, got {n_probe}")
    X = np.ascontiguousarray(X, dtype=np.float32)
    k = min(int(n_neighbors), n)
    n_lists = round(float(np.sqrt(n_probe * n)))
    if method == "exact" or (method == "auto" and n <= EXACT_MAX_N) or n_lists <= n_probe:
        return _exact_knn(X, k)
    return _ivf_knn(X, k, int(n_probe), n_lists, seed)


def _exact_knn(X: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Brute-force inner-product kNN of every row of X among all rows."""
    import faiss

    sims, idx = faiss.knn(X, X, k, metric=faiss.METRIC_INNER_PRODUCT)
    return idx.astype(np.int64, copy=False), sims


def _train_centroids(X: np.ndarray, n_lists: int, seed: int) -> np.ndarray:
    """Unit-norm centroids of spherical k-means (faiss) fitted on a seeded sample of X.

    Not :func:`quadiv.geometry.kmeans`: the IVF lists need only centroids from faiss's own random
    start on a small sample (k-means++ seeds would cost more and change every IVF graph).
    """
    import faiss

    n, d = X.shape
    rng = np.random.default_rng(seed)
    size = min(n, n_lists * _SAMPLE_PER_LIST)
    sample = X[np.sort(rng.choice(n, size, replace=False))]
    km = faiss.Kmeans(
        d, n_lists, niter=_KMEANS_ITERS, spherical=True, seed=int(seed) % (2**31),
        max_points_per_centroid=_SAMPLE_PER_LIST, verbose=False,
    )
    km.train(sample)
    return km.centroids


def _ivf_knn(X: np.ndarray, k: int, n_probe: int, n_lists: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """IVF kNN: search each item's ``n_probe`` nearest lists, one dense product per list, then merge."""
    n = X.shape[0]
    centroids = _train_centroids(X, n_lists, seed)
    probes = np.concatenate(_map_single_threaded(
        lambda lo: top_inner_products(X[lo:lo + _ASSIGN_ROWS], centroids, n_probe)[1],
        range(0, n, _ASSIGN_ROWS),
    ))
    cand_idx = np.full((n, n_probe, k), -1, dtype=np.int32)
    cand_sim = np.full((n, n_probe, k), -np.inf, dtype=np.float32)
    flat = probes.ravel()
    pair_order = np.argsort(flat, kind="stable")  # (query, slot) pairs grouped by probed list
    pair_bounds = np.searchsorted(flat[pair_order], np.arange(n_lists + 1))
    home = probes[:, 0]
    member_order = np.argsort(home, kind="stable")  # items grouped by the list they live in
    member_bounds = np.searchsorted(home[member_order], np.arange(n_lists + 1))

    def scan(c: int) -> None:
        members = member_order[member_bounds[c]:member_bounds[c + 1]]
        pairs = pair_order[pair_bounds[c]:pair_bounds[c + 1]]
        if members.size == 0 or pairs.size == 0:
            return
        queries, slots = np.divmod(pairs, n_probe)
        kk = min(k, members.size)
        sims, local = top_inner_products(X[queries], X[members], kk)
        cand_sim[queries, slots, :kk] = sims
        cand_idx[queries, slots, :kk] = members[local]

    _map_single_threaded(scan, range(n_lists))
    return _merge_candidates(cand_idx.reshape(n, -1), cand_sim.reshape(n, -1), k)


def top_inner_products(queries: np.ndarray, base: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k inner products of each query row among the base rows (faiss, blocked matrix product)."""
    import faiss

    return faiss.knn(queries, base, k, metric=faiss.METRIC_INNER_PRODUCT)


def _map_single_threaded(fn: Callable, tasks: Iterable) -> list:
    """fn over tasks on one Python thread per core, faiss single-threaded inside each call.

    Many small faiss calls each spin up OpenMP threads; on a few (possibly shared) cores that overhead
    dominates, so the parallelism goes across calls instead (faiss releases the GIL while it runs).
    """
    import faiss

    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        with ThreadPoolExecutor(max_workers=_n_cores(), initializer=block_sigint_here) as pool:
            return list(pool.map(fn, tasks))
    finally:
        faiss.omp_set_num_threads(previous)


def _n_cores() -> int:
    """CPU cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _merge_candidates(cand_idx: np.ndarray, cand_sim: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the k candidates with the largest similarity, sorted best first (rows done in chunks)."""
    n = cand_idx.shape[0]
    idx = np.empty((n, k), dtype=np.int64)
    sim = np.empty((n, k), dtype=np.float32)
    for lo in range(0, n, _MERGE_ROWS):
        s = cand_sim[lo:lo + _MERGE_ROWS]
        top = np.argpartition(-s, k - 1, axis=1)[:, :k] if s.shape[1] > k else np.argsort(-s, axis=1)
        top_s = np.take_along_axis(s, top, axis=1)
        order = np.argsort(-top_s, axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        sim[lo:lo + _MERGE_ROWS] = np.take_along_axis(top_s, order, axis=1)
        idx[lo:lo + _MERGE_ROWS] = np.take_along_axis(cand_idx[lo:lo + _MERGE_ROWS], top, axis=1)
    return idx, sim
