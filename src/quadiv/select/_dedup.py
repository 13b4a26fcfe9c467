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


class _UnionFind:
    """Disjoint sets over 0..n-1 with path halving; the root of a set is its best item (see ``better``)."""

    def __init__(self, rank_key: np.ndarray):
        self.parent = np.arange(len(rank_key))
        self.key = rank_key  # smaller key = better representative

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return int(i)

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            keep, drop = (ra, rb) if self.key[ra] < self.key[rb] else (rb, ra)
            self.parent[drop] = keep

    def roots(self) -> np.ndarray:
        """The root of every item, by vectorised pointer jumping."""
        roots = self.parent.copy()
        while not np.array_equal(jumped := roots[roots], roots):
            roots = jumped
        return roots


def normalize_text(text: str) -> str:
    """Lower-case, whitespace collapsed to single spaces, trimmed."""
    return _SPACE.sub(" ", str(text).lower()).strip()


def _exact_edges(texts: Sequence[str], alive: np.ndarray):
    first: dict[bytes, int] = {}
    for i in alive:
        digest = hashlib.blake2b(normalize_text(texts[i]).encode("utf-8"), digest_size=16).digest()
        j = first.setdefault(digest, int(i))
        if j != i:
            yield j, int(i)


def _shingles(text: str, n: int = 5) -> set[bytes]:
    """Word n-grams of the normalised text (the whole text as one shingle when shorter than n words)."""
    words = normalize_text(text).split(" ")
    if len(words) < n:
        return {" ".join(words).encode("utf-8")}
    return {" ".join(words[i: i + n]).encode("utf-8") for i in range(len(words) - n + 1)}


def _minhash_edges(texts: Sequence[str], alive: np.ndarray, threshold: float, num_perm: int, seed: int):
    """Pairs whose MinHash Jaccard estimate is >= threshold among the MinHash-LSH candidates."""
    from datasketch import LeanMinHash, MinHash, MinHashLSH

    sketches = [LeanMinHash(m) for m in MinHash.bulk((_shingles(texts[i]) for i in alive),
                                                     num_perm=num_perm, seed=seed)]
    signatures = np.stack([m.hashvalues for m in sketches])
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    with lsh.insertion_session() as session:
        for pos, sketch in enumerate(sketches):
            session.insert(pos, sketch, check_duplication=False)
    for pos, sketch in enumerate(sketches):
        others = np.array([c for c in lsh.query(sketch) if c > pos], dtype=np.int64)
        if len(others):
            jaccard = np.mean(signatures[others] == signatures[pos], axis=1)
            for other in others[jaccard >= threshold]:
                yield int(alive[pos]), int(alive[other])


def _semantic_edges(X: np.ndarray, alive: np.ndarray, threshold: float, seed: int, chunk: int = 2048):
    """SemDeDup: k-means on the embeddings, then pairs in the same cluster with cosine > threshold."""
    from quadiv.geometry import kmeans, unit_rows

    Z = unit_rows(X[alive], empty_axis=False)  # a zero row stays zero: similar to nothing, never removed
    labels, _ = kmeans(Z, max(1, round(math.sqrt(len(alive)))), seed)
    for c in range(int(labels.max()) + 1):
        members = np.flatnonzero(labels == c)
        for start in range(0, len(members), chunk):
            rows = members[start: start + chunk]
            sims = Z[rows] @ Z[members].T
            r, m = np.nonzero(sims > threshold)
            upper = members[m] > rows[r]
            for a, b in zip(rows[r[upper]], members[m[upper]]):
                yield int(alive[a]), int(alive[b])


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
          groups: np.ndarray | None = None, num_perm: int = 128, seed: int = 0) -> DedupResult:
    """Remove duplicates stage by stage and keep the highest-quality item of each duplicate group.

    Stages, each on the survivors of the previous one:
      exact     identical normalised text (lower-cased, whitespace collapsed), by a 128-bit hash;
      minhash   MinHash-LSH (Broder 1997; datasketch MinHashLSH) on word 5-gram shingles: LSH
                candidates whose estimated Jaccard similarity is >= ``minhash_threshold``;
      semantic  SemDeDup (Abbas et al. 2023, "SemDeDup: Data-efficient learning at web-scale through
                semantic deduplication", Sec. 3): k-means on the embeddings (k = round(sqrt(n))), and
                inside each cluster every pair with cosine similarity > ``semantic_threshold``.
    Duplicate pairs are merged by union-find (transitively). Each group keeps its highest-quality item
    (ties: the lowest index); SemDeDup keeps the item least similar to its centroid, here quality
    decides. ``cluster_of[i]`` is the kept item that stands for item i (i itself when kept; through
    the chain of merges when i's own representative was removed at a later stage); ``stage_of[i]`` the
    stage that removed i; ``removed`` counts the items each stage removed. With ``groups`` (one label
    per text, e.g. the question) duplicates are looked for within each group only, every stage run on
    each group separately (SemDeDup's k-means too, k = round(sqrt(group size))).
    """
    n = len(texts)
    q = _check(texts, X, quality, minhash_threshold, semantic_threshold, num_perm)
    run = {"exact": exact, "minhash_threshold": minhash_threshold, "semantic_threshold": semantic_threshold,
           "num_perm": num_perm, "seed": seed}
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
           seed: int) -> DedupResult:
    """The stages of :func:`dedup` on one set of texts (``q``: checked quality, zeros when none)."""
    n = len(texts)
    uf = _UnionFind(np.argsort(np.lexsort((np.arange(n), -q))))
    alive = np.arange(n)
    removed: dict[str, int] = {}
    stage_of = np.full(n, "", dtype=object)
    stages = [("exact", exact, lambda a: _exact_edges(texts, a)),
              ("minhash", minhash_threshold is not None,
               lambda a: _minhash_edges(texts, a, minhash_threshold, num_perm, seed)),
              ("semantic", semantic_threshold is not None,
               lambda a: _semantic_edges(X, a, semantic_threshold, seed))]
    for stage, active, edges in stages:
        if not active:
            continue
        for a, b in edges(alive) if len(alive) > 1 else ():
            uf.union(a, b)
        roots = uf.roots()
        survivors = alive[roots[alive] == alive]
        removed[stage] = int(len(alive) - len(survivors))
        stage_of[alive[roots[alive] != alive]] = stage
        alive = survivors
    return DedupResult(keep=np.sort(alive), cluster_of=uf.roots(), removed=removed, stage_of=stage_of)
