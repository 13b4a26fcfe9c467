"""Duplicate removal in three stages: exact text, MinHash-LSH near-duplicates, SemDeDup semantic duplicates."""
from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from quadiv.errors import UsageError

_SPACE = re.compile(r"\s+")
_TEXT_BATCH = 10_000  # texts per MinHash signature batch (a task on an engine)
_PAIR_BATCH = 65_536  # candidate pairs whose signatures are compared at a time


@dataclass
class DedupResult:
    """Kept item indices (ascending), each item's kept representative, the stage that removed it.

    ``cluster_of[i]``: the kept item that item i duplicates (i itself when kept); ``stage_of[i]``:
    "exact", "minhash" or "semantic" for a removed item, "" for a kept one; ``removed``: items removed
    per stage.
    """

    keep: np.ndarray
    cluster_of: np.ndarray
    removed: dict = field(default_factory=dict)
    stage_of: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))

    @property
    def dropped(self) -> np.ndarray:
        """Indices of the removed items, ascending."""
        return np.flatnonzero(self.stage_of != "")


def normalize_text(text: str) -> str:
    """Lower-case, whitespace collapsed to single spaces, trimmed."""
    return _SPACE.sub(" ", str(text).lower()).strip()


def _exact_edges(texts: Sequence[str], alive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (first item with this normalised text, later item with it), by a 128-bit hash."""
    first: dict[bytes, int] = {}
    pairs = []
    for i in alive:
        digest = hashlib.blake2b(normalize_text(texts[i]).encode("utf-8"), digest_size=16).digest()
        j = first.setdefault(digest, int(i))
        if j != i:
            pairs.append((j, int(i)))
    return _as_edges(pairs)


def _shingles(text: str, n: int = 5) -> set[bytes]:
    """Word n-grams of the normalised text (the whole text as one shingle when shorter than n words)."""
    words = normalize_text(text).split(" ")
    if len(words) < n:
        return {" ".join(words).encode("utf-8")}
    return {" ".join(words[i: i + n]).encode("utf-8") for i in range(len(words) - n + 1)}


def minhash_signatures(texts: Sequence[str], num_perm: int, seed: int) -> np.ndarray:
    """(len(texts), num_perm) uint64 MinHash signatures of the texts' word 5-gram shingles (datasketch)."""
    from datasketch import MinHash

    sketches = MinHash.bulk((_shingles(t) for t in texts), num_perm=num_perm, seed=seed)
    return np.stack([m.hashvalues for m in sketches]) if sketches else np.empty((0, num_perm), dtype=np.uint64)


def band_pairs(band: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (a < b) of rows whose band (an (n, r) block of signature columns) is identical: the
    candidates of one LSH band. Rows are grouped by the band's bytes; a group of s rows gives its
    s (s - 1) / 2 pairs, generated without a Python loop."""
    keys = np.ascontiguousarray(band).view(np.dtype((np.void, band.dtype.itemsize * band.shape[1]))).ravel()
    _, group = np.unique(keys, return_inverse=True)
    order = np.argsort(group, kind="stable")  # rows ascending inside each group
    sorted_group = group[order]
    end = np.searchsorted(sorted_group, sorted_group, side="right")  # one past each row's group
    later = end - np.arange(len(order)) - 1  # how many rows of its group follow each row
    total = int(later.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    first = np.repeat(np.arange(len(order)), later)
    step = np.arange(total) - np.repeat(np.cumsum(later) - later, later) + 1
    return order[first], order[first + step]


def _minhash_edges(texts: Sequence[str], alive: np.ndarray, threshold: float, num_perm: int, seed: int,
                   engine) -> tuple[np.ndarray, np.ndarray]:
    """Pairs whose MinHash Jaccard estimate is >= threshold among the MinHash-LSH candidates.

    The bands are datasketch's: MinHashLSH(threshold, num_perm) chooses b bands of r rows, and its
    candidates are the items sharing any band exactly (SCALE.md pattern D: each band is a key). The
    signatures are computed per batch of texts and the candidates per band, on ``engine``.
    """
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    batches = ((([texts[i] for i in alive[lo:lo + _TEXT_BATCH]], num_perm, seed))
               for lo in range(0, len(alive), _TEXT_BATCH))
    signatures = np.concatenate(list(_map(engine, minhash_signatures, batches)))
    found = list(_map(engine, band_pairs, ((signatures[:, i * lsh.r:(i + 1) * lsh.r],) for i in range(lsh.b))))
    a = np.concatenate([pair[0] for pair in found])
    b = np.concatenate([pair[1] for pair in found])
    unique = np.unique(a * len(alive) + b)
    a, b = unique // len(alive), unique % len(alive)
    keep = np.zeros(len(a), dtype=bool)
    for lo in range(0, len(a), _PAIR_BATCH):
        hi = lo + _PAIR_BATCH
        keep[lo:hi] = np.mean(signatures[a[lo:hi]] == signatures[b[lo:hi]], axis=1) >= threshold
    return alive[a[keep]], alive[b[keep]]


def close_pairs(Z: np.ndarray, threshold: float, chunk: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (a < b) of rows of Z (one k-means cluster) with Z_a . Z_b > threshold."""
    found_a, found_b = [], []
    for start in range(0, len(Z), chunk):
        sims = Z[start:start + chunk] @ Z.T
        r, m = np.nonzero(sims > threshold)
        upper = m > r + start
        found_a.append(r[upper] + start)
        found_b.append(m[upper])
    return np.concatenate(found_a), np.concatenate(found_b)


def _semantic_edges(X: np.ndarray, alive: np.ndarray, threshold: float, seed: int,
                    engine) -> tuple[np.ndarray, np.ndarray]:
    """SemDeDup: k-means on the embeddings, then pairs in the same cluster with cosine > threshold
    (one cluster per task on ``engine``)."""
    from quadiv.geometry import kmeans, unit_rows

    Z = unit_rows(X[alive], empty_axis=False)  # a zero row stays zero: similar to nothing, never removed
    labels, _ = kmeans(Z, max(1, round(math.sqrt(len(alive)))), seed, engine=engine)
    members = [np.flatnonzero(labels == c) for c in range(int(labels.max()) + 1)]
    found = list(_map(engine, close_pairs, ((Z[rows], threshold) for rows in members)))
    a = np.concatenate([rows[pair[0]] for rows, pair in zip(members, found, strict=True)])
    b = np.concatenate([rows[pair[1]] for rows, pair in zip(members, found, strict=True)])
    return alive[a], alive[b]


def _map(engine, fn, arguments):
    """fn(*args) for each tuple of arguments, in order: as tasks of a :mod:`quadiv.engine` engine, or here."""
    return engine.map(fn, arguments) if engine is not None else (fn(*args) for args in arguments)


def _as_edges(pairs: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    both = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    return both[:, 0], both[:, 1]


def _merge(parent: np.ndarray, key: np.ndarray, alive: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """Join the alive items linked by the edges (a_e, b_e) into connected components (scipy), and point
    every member of a component at its best item (smallest ``key``), which stays alive."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if a.size == 0:
        return
    m = len(alive)
    pa, pb = np.searchsorted(alive, a), np.searchsorted(alive, b)
    graph = coo_matrix((np.ones(a.size, dtype=np.int8), (pa, pb)), shape=(m, m))
    _, component = connected_components(graph, directed=False)
    by_key = np.lexsort((key[alive], component))  # per component, best first
    starts = np.flatnonzero(np.r_[True, np.diff(component[by_key]) != 0])
    best = np.empty(component.max() + 1, dtype=np.int64)
    best[component[by_key[starts]]] = alive[by_key[starts]]
    parent[alive] = best[component]


def _roots(parent: np.ndarray) -> np.ndarray:
    """The root of every item, by vectorised pointer jumping."""
    roots = parent.copy()
    while not np.array_equal(jumped := roots[roots], roots):
        roots = jumped
    return roots


def _check(texts, X, quality, minhash_threshold, semantic_threshold, num_perm) -> np.ndarray:
    n = len(texts)
    if X is not None and (np.ndim(X) != 2 or np.shape(X)[0] != n):
        raise UsageError(f"embeddings must be an (n, d) array with n = {n} texts, got shape {np.shape(X)}")
    if semantic_threshold is not None:
        if X is None:
            raise UsageError("semantic deduplication needs embeddings: pass X (CLI: --embedder or --embeddings)")
        if not -1.0 <= semantic_threshold <= 1.0:
            raise UsageError(f"semantic_threshold is a cosine similarity in [-1, 1], got {semantic_threshold}")
    if minhash_threshold is not None and not 0.0 < minhash_threshold <= 1.0:
        raise UsageError(f"minhash_threshold is a Jaccard similarity in (0, 1], got {minhash_threshold}")
    if num_perm < 2:
        raise UsageError(f"num_perm must be at least 2, got {num_perm}")
    q = np.zeros(n) if quality is None else np.asarray(quality, dtype=np.float64)
    if q.shape != (n,) or not np.all(np.isfinite(q)):
        raise UsageError(f"quality must hold one finite value per text ({n}), got shape {q.shape}")
    return q


def dedup(texts: Sequence[str], X: np.ndarray | None = None, quality: np.ndarray | None = None, *,
          exact: bool = True, minhash_threshold: float | None = None, semantic_threshold: float | None = None,
          groups: np.ndarray | None = None, num_perm: int = 128, seed: int = 0, engine=None) -> DedupResult:
    """Remove duplicates stage by stage and keep the highest-quality item of each duplicate group.

    Stages, each on the survivors of the previous one:
      exact     identical normalised text (lower-cased, whitespace collapsed), by a 128-bit hash;
      minhash   MinHash-LSH (Broder 1997; datasketch MinHashLSH) on word 5-gram shingles: LSH
                candidates whose estimated Jaccard similarity is >= ``minhash_threshold``;
      semantic  SemDeDup (Abbas et al. 2023, "SemDeDup: Data-efficient learning at web-scale through
                semantic deduplication", Sec. 3): k-means on the embeddings (k = round(sqrt(n))), and
                inside each cluster every pair with cosine similarity > ``semantic_threshold``.
    Duplicate pairs are merged transitively (connected components, scipy). Each group keeps its highest-quality item
    (ties: the lowest index); SemDeDup keeps the item least similar to its centroid, here quality
    decides. ``cluster_of[i]`` is the kept item that stands for item i (i itself when kept; through
    the chain of merges when i's own representative was removed at a later stage); ``stage_of[i]`` the
    stage that removed i; ``removed`` counts the items each stage removed. With ``groups`` (one label
    per text, e.g. the question) duplicates are looked for within each group only, every stage run on
    each group separately (SemDeDup's k-means too, k = round(sqrt(group size))).
    ``engine`` (a :mod:`quadiv.engine` engine, default this process) computes the MinHash signatures per
    batch of texts, the LSH candidates per band, the k-means assignment and each cluster's close pairs
    as its tasks; the components are formed here from the edges, so the groups removed are the same.
    """
    n = len(texts)
    q = _check(texts, X, quality, minhash_threshold, semantic_threshold, num_perm)
    run = {"exact": exact, "minhash_threshold": minhash_threshold, "semantic_threshold": semantic_threshold,
           "num_perm": num_perm, "seed": seed, "engine": engine}
    if groups is None:
        return _dedup(texts, X, q, **run)
    labels = np.asarray(groups)
    if labels.shape != (n,):
        raise UsageError(f"groups must hold one label per text ({n}), got shape {labels.shape}")
    result = DedupResult(keep=np.empty(0, dtype=np.int64), cluster_of=np.arange(n), removed={},
                         stage_of=np.full(n, "", dtype=object))
    kept = []
    for label in dict.fromkeys(labels.tolist()):
        idx = np.flatnonzero(labels == label)
        part = _dedup([texts[i] for i in idx], None if X is None else X[idx], q[idx], **run)
        kept.append(idx[part.keep])
        result.cluster_of[idx] = idx[part.cluster_of]
        result.stage_of[idx] = part.stage_of
        for stage, count in part.removed.items():
            result.removed[stage] = result.removed.get(stage, 0) + count
    result.keep = np.sort(np.concatenate(kept)) if kept else result.keep
    return result


def _dedup(texts: Sequence[str], X: np.ndarray | None, q: np.ndarray, *, exact: bool,
           minhash_threshold: float | None, semantic_threshold: float | None, num_perm: int,
           seed: int, engine) -> DedupResult:
    """The stages of :func:`dedup` on one set of texts (``q``: checked quality, zeros when none)."""
    n = len(texts)
    key = np.argsort(np.lexsort((np.arange(n), -q)))  # rank: best quality first, then lowest index
    parent = np.arange(n)
    alive = np.arange(n)
    removed: dict[str, int] = {}
    stage_of = np.full(n, "", dtype=object)
    stages = [("exact", exact, lambda a: _exact_edges(texts, a)),
              ("minhash", minhash_threshold is not None,
               lambda a: _minhash_edges(texts, a, minhash_threshold, num_perm, seed, engine)),
              ("semantic", semantic_threshold is not None,
               lambda a: _semantic_edges(X, a, semantic_threshold, seed, engine))]
    for stage, active, edges in stages:
        if not active:
            continue
        if len(alive) > 1:
            _merge(parent, key, alive, *edges(alive))
        survivors = alive[parent[alive] == alive]
        removed[stage] = int(len(alive) - len(survivors))
        stage_of[alive[parent[alive] != alive]] = stage
        alive = survivors
    return DedupResult(keep=np.sort(alive), cluster_of=_roots(parent), removed=removed, stage_of=stage_of)
