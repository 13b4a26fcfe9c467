"""k-means with k-means++ seeds (faiss Lloyd iterations), spherical on unit rows."""
from __future__ import annotations

import numpy as np

from quadiv.geometry._unit import rows_are_unit

_SEED_ROWS_PER_CENTROID = 64  # k-means++ runs on a sample of at most 64 k rows
_ASSIGN_BATCH = 65_536  # rows per assignment batch (a task on an engine)
_TIE = 1e-4  # two centroids this close in float32 score are told apart in float64


def kmeans(X: np.ndarray, k: int, seed: int = 0, niter: int = 20, *,
           init: np.ndarray | None = None, engine=None) -> tuple[np.ndarray, np.ndarray]:
    """Seeded faiss k-means: (labels in 0..k'-1, centroids (k', d)), spherical when rows are unit-norm.

    Lloyd's algorithm minimising sum_i ||x_i - c_{a(i)}||^2 from k-means++ seeds (Arthur and
    Vassilvitskii 2007) drawn with ``seed`` on a random sample of at most 64 k rows, or from the
    given ``init`` centroids (k, d). With L2-normalised rows (within 1e-3) the centroids are
    re-normalised after each step (spherical k-means, assignment by largest inner product).
    ``k`` is clipped to [1, n]; clusters left empty are dropped so the labels are contiguous.
    faiss fits on at most 256 rows per centroid (its own seeded sample); every row is then assigned to
    its nearest centroid by :func:`nearest_centroid`, batch by batch, on ``engine`` (a
    :mod:`quadiv.engine` engine: the batches as tasks, the same labels) or here.
    """
    import faiss

    X32 = np.ascontiguousarray(X, dtype=np.float32)
    n, d = X32.shape
    k = int(min(max(int(k), 1), n))
    if k == 1:
        return np.zeros(n, dtype=np.int64), X32.mean(axis=0, keepdims=True)
    if init is None:
        rng = np.random.default_rng(seed)
        init = kmeans_pp(X32[rng.choice(n, min(n, _SEED_ROWS_PER_CENTROID * k), replace=False)], k, rng)
    spherical = rows_are_unit(X32, 2e-3, engine)  # |x|^2, no n x d temporary
    km = faiss.Kmeans(d, k, niter=int(niter), seed=int(seed) % (2**31), spherical=spherical,
                      min_points_per_centroid=1, verbose=False)
    km.train(X32, init_centroids=init)
    centroids = np.asarray(km.centroids)
    if engine is None:
        parts = [nearest_centroid(X32[lo:lo + _ASSIGN_BATCH], centroids, spherical) for lo in range(0, n, _ASSIGN_BATCH)]
    else:
        parts = engine.map_batches(nearest_centroid, X32, centroids, spherical, batch_size=_ASSIGN_BATCH)
    used, labels = np.unique(np.concatenate(list(parts)), return_inverse=True)
    return labels.astype(np.int64), centroids[used]


def nearest_centroid(rows: np.ndarray, centroids: np.ndarray, spherical: bool) -> np.ndarray:
    """Index of each row's nearest centroid: largest inner product (spherical) or smallest L2 distance.

    The same answer whatever the number of BLAS threads (a task on an engine has one, this process
    more): float32 products differ in their last bits with the threads' blocking, so a row whose two
    best centroids lie within 1e-4 is decided again in float64 against every centroid.
    """
    import faiss

    rows = np.ascontiguousarray(rows, dtype=np.float32)
    index = (faiss.IndexFlatIP if spherical else faiss.IndexFlatL2)(centroids.shape[1])
    index.add(centroids)
    scores, found = index.search(rows, min(2, len(centroids)))
    best = found[:, 0].copy()
    if len(centroids) > 1:
        near = np.flatnonzero(np.abs(scores[:, 0] - scores[:, 1]) < _TIE)
        if near.size:
            R, C = rows[near].astype(np.float64), centroids.astype(np.float64)
            closeness = R @ C.T if spherical else 2.0 * (R @ C.T) - np.einsum("ij,ij->i", C, C)
            best[near] = np.argmax(closeness, axis=1)
    return best


def kmeans_pp(rows: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k k-means++ seeds among ``rows`` as float32 (k, d): the first uniform, each next with p ~ D(x)^2.

    D(x) is the distance from x to the nearest seed so far (Arthur and Vassilvitskii 2007); distances
    are computed in the dtype of ``rows``.
    """
    sq = np.einsum("ij,ij->i", rows, rows)
    seeds = [int(rng.integers(len(rows)))]
    d2 = np.maximum(sq + sq[seeds[0]] - 2.0 * rows @ rows[seeds[0]], 0.0)
    for _ in range(1, k):
        total = d2.sum()
        nxt = int(rng.choice(len(rows), p=d2 / total)) if total > 0 else int(rng.integers(len(rows)))
        seeds.append(nxt)
        d2 = np.minimum(d2, np.maximum(sq + sq[nxt] - 2.0 * rows @ rows[nxt], 0.0))
    return np.ascontiguousarray(rows[seeds], dtype=np.float32)
