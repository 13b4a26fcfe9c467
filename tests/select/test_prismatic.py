"""Prismatic Synthesis' sparse-cluster filter: sparse clusters first, quality through the tradeoff, seeded."""
import numpy as np
import pytest

from quadiv.errors import UsageError
from quadiv.front import front
from quadiv.geometry import kmeans
from quadiv.select import get_selector, select


def dense_and_sparse(seed: int = 0):
    """60 items around one centre and 4 sparse clusters of 5, well apart (orthogonal centres)."""
    rng = np.random.default_rng(seed)
    centres = np.eye(16)[:5] * 10
    sizes = [60, 5, 5, 5, 5]
    X = np.concatenate([c + rng.standard_normal((m, 16)) * 0.3 for c, m in zip(centres, sizes)])
    return X, np.repeat(np.arange(5), sizes)


def test_sparse_clusters_are_picked_before_the_dense_one():
    X, truth = dense_and_sparse()
    sel = select(X, 20, method="prismatic", n_clusters=5, tradeoff=0.0, seed=0)
    assert sorted(set(truth[sel.indices].tolist())) == [1, 2, 3, 4]
    assert np.all(np.diff(sel.params["cluster_sizes"]) >= 0) and max(sel.params["cluster_sizes"]) < 60
    more = select(X, 30, method="prismatic", n_clusters=5, tradeoff=0.0, seed=0)
    assert (truth[more.indices[:20]] > 0).all() and (truth[more.indices[20:]] == 0).all()


def test_sparsity_follows_the_kmeans_cluster_sizes():
    X, _ = dense_and_sparse(1)
    unit = X / np.linalg.norm(X, axis=1, keepdims=True)
    labels, _ = kmeans(unit, 5, 3)
    sizes = np.bincount(labels)
    sel = select(X, len(X), method="prismatic", n_clusters=5, tradeoff=0.0, seed=3)
    picked = sizes[labels[sel.indices]]
    assert np.all(np.diff(picked) >= 0)  # the whole pool, in increasing size of the item's cluster


def test_deterministic_under_a_seed():
    X, _ = dense_and_sparse()
    q = np.random.default_rng(5).random(len(X))
    a, b = (select(X, 12, method="prismatic", quality=q, tradeoff=0.3, seed=7) for _ in range(2))
    assert a.indices.tolist() == b.indices.tolist() and a.objective == b.objective
    c = select(X, 12, method="prismatic", quality=q, tradeoff=0.0, seed=8)
    d = select(X, 12, method="prismatic", quality=q, tradeoff=0.0, seed=7)
    assert c.indices.tolist() != d.indices.tolist()  # ties inside the sparse clusters follow the seed


def test_tradeoff_one_is_top_quality_and_in_between_mixes():
    X, truth = dense_and_sparse()
    q = np.where(truth == 0, 1.0, 0.0) + np.linspace(0, 0.01, len(X))
    top = select(X, 10, method="prismatic", quality=q, tradeoff=1.0, n_clusters=5)
    assert sorted(top.indices.tolist()) == sorted(np.argsort(-q)[:10].tolist())
    half = select(X, 10, method="prismatic", quality=q, tradeoff=0.5, n_clusters=5)
    assert 0 < np.mean(truth[half.indices] == 0) <= 1


def test_bad_n_clusters_and_front_sweeps():
    with pytest.raises(UsageError, match="n_clusters"):
        get_selector("prismatic", n_clusters=0)
    X, _ = dense_and_sparse()
    q = np.random.default_rng(0).random(len(X))
    result = front(X, 10, quality=q, methods=["prismatic", "random"], tradeoffs="0:1:3", seed=0)
    assert result["methods"] == ["prismatic", "random"]
    assert sum(p["method"] == "prismatic" for p in result["points"]) == 3


def test_repeats_of_a_row_come_after_every_first_occurrence():
    X, _ = dense_and_sparse()
    X = np.concatenate([X, np.repeat(X[-1:], 3, axis=0)])  # a sparse point four times
    q = np.arange(len(X), dtype=float)
    sel = select(X, len(X), method="prismatic", quality=q, tradeoff=1.0, n_clusters=5)
    assert sel.indices[0] == len(X) - 1  # the best-scored copy keeps its place
    assert set(sel.indices[-3:].tolist()) == {len(X) - 4, len(X) - 3, len(X) - 2}
