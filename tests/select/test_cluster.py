"""Tests for the shared cluster helpers and the Diversify-and-Conquer (kMQ) selector."""
import numpy as np
import pytest

from quadiv.errors import UsageError
from quadiv.geometry import kmeans
from quadiv.select import select
from quadiv.select._cluster import _start_weights, allocate, gumbel_order, tempered


def blobs(n_per=60, k=4, d=8, seed=0, spread=0.05):
    """k well-separated unit-norm blobs; the last blob is the high-quality one."""
    rng = np.random.default_rng(seed)
    centers = np.eye(d)[:k]
    X = np.repeat(centers, n_per, axis=0) + spread * rng.normal(size=(n_per * k, d))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    truth = np.repeat(np.arange(k), n_per)
    quality = np.where(truth == k - 1, 0.8, 0.2) + 0.1 * rng.random(len(truth))
    return X.astype(np.float32), quality, truth


def test_kmeans_recovers_separated_blobs_and_is_seeded():
    X, _, truth = blobs()
    labels, centroids = kmeans(X, 4, seed=3)
    assert centroids.shape == (4, 8)
    for blob in range(4):
        assert len(np.unique(labels[truth == blob])) == 1
    assert len(np.unique(labels)) == 4
    again, _ = kmeans(X, 4, seed=3)
    np.testing.assert_array_equal(labels, again)


def test_kmeans_clips_k():
    X, _, _ = blobs(n_per=2, k=2)
    labels, _ = kmeans(X, 50, seed=0)
    assert labels.max() < 4
    assert np.all(kmeans(X, 1, seed=0)[0] == 0)


def test_allocate_hand_cases():
    np.testing.assert_array_equal(allocate(10, np.ones(3), np.full(3, 100)), [4, 3, 3])
    np.testing.assert_array_equal(allocate(10, np.ones(2), np.array([2, 100])), [2, 8])
    np.testing.assert_array_equal(allocate(5, np.array([1.0, 0.0]), np.array([2, 10])), [2, 3])
    np.testing.assert_array_equal(allocate(6, np.array([2.0, 1.0]), np.array([100, 100])), [4, 2])


@pytest.mark.parametrize("seed", range(5))
def test_allocate_sums_and_respects_capacity(seed):
    rng = np.random.default_rng(seed)
    capacity = rng.integers(0, 20, size=7)
    total = int(rng.integers(0, capacity.sum() + 1))
    counts = allocate(total, rng.random(7), capacity)
    assert counts.sum() == total
    assert np.all(counts <= capacity) and np.all(counts >= 0)


def test_tempered_and_gumbel_order():
    np.testing.assert_allclose(tempered(np.array([0.0, 1.0]), np.inf), [0.0, 1.0])
    np.testing.assert_allclose(tempered(np.array([0.0, 1.0]), 1.0), [np.exp(-1), 1.0])
    q = np.array([0.1, 0.9, 0.5, 0.3])
    labels = np.array([1, 0, 1, 0])
    order = gumbel_order(q, np.inf, labels, np.random.default_rng(0))
    np.testing.assert_array_equal(order, [1, 3, 2, 0])


def test_one_item_per_cluster_at_half():
    X, q, truth = blobs()  # the paper's setting: a uniform start shares the budget equally
    sel = select(X, 4, method="cluster", quality=q, tradeoff=0.5, seed=0, n_clusters=4, rounds=1)
    assert sorted(truth[sel.indices]) == [0, 1, 2, 3]


@pytest.mark.parametrize("rounds", [1, 4])
def test_t1_is_the_top_quality_set(rounds):
    X, q, _ = blobs()
    sel = select(X, 30, method="cluster", quality=q, tradeoff=1.0, seed=0, n_clusters=4, rounds=rounds)
    np.testing.assert_allclose(np.sort(q[sel.indices]), np.sort(q)[-30:])


def test_start_weights_by_hand():
    q = np.array([0.9, 0.1, 0.8, 0.7, 0.2])
    labels = np.array([0, 0, 1, 1, 2])  # best 2: items 0 (cluster 0) and 2 (cluster 1)
    np.testing.assert_allclose(_start_weights(q, labels, 3, 2, 0.0), [1 / 3] * 3)
    np.testing.assert_allclose(_start_weights(q, labels, 3, 2, 1.0), [0.5, 0.5, 0.0])
    np.testing.assert_allclose(_start_weights(q, labels, 3, 2, 0.5), [5 / 12, 5 / 12, 1 / 6])


def test_equal_cluster_shares_at_t0():
    X, q, truth = blobs()
    sel = select(X, 40, method="cluster", quality=q, tradeoff=0.0, seed=1, n_clusters=4)
    np.testing.assert_array_equal(np.bincount(truth[sel.indices]), [10, 10, 10, 10])


@pytest.mark.parametrize("budget", [1, 7, 50, 240])
def test_exact_budget_distinct_and_seeded(budget):
    X, q, _ = blobs()
    a = select(X, budget, method="cluster", quality=q, tradeoff=0.5, seed=2)
    b = select(X, budget, method="cluster", quality=q, tradeoff=0.5, seed=2)
    assert len(a.indices) == budget == len(np.unique(a.indices))
    np.testing.assert_array_equal(a.indices, b.indices)


def test_quality_rises_with_tradeoff():
    X, q, truth = blobs()
    lo = select(X, 40, method="cluster", quality=q, tradeoff=0.0, seed=0, n_clusters=4)
    hi = select(X, 40, method="cluster", quality=q, tradeoff=1.0, seed=0, n_clusters=4)
    assert q[hi.indices].mean() > q[lo.indices].mean()
    assert len(np.unique(truth[lo.indices])) == 4


def test_bad_parameters():
    with pytest.raises(UsageError):
        select(np.eye(3), 1, method="cluster", temperature=0.0)
    with pytest.raises(UsageError):
        select(np.eye(3), 1, method="cluster", rounds=0)
