"""Tests for the Quad cluster-bandit selector."""
import numpy as np
import pytest

from quadiv.errors import UsageError
from quadiv.select import QuadSelector, select


def blobs(n_per=40, k=3, d=6, seed=0):
    rng = np.random.default_rng(seed)
    X = np.repeat(np.eye(d)[:k], n_per, axis=0) + 0.05 * rng.normal(size=(n_per * k, d))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    truth = np.repeat(np.arange(k), n_per)
    quality = np.where(truth == k - 1, 0.9, 0.1) + 0.05 * rng.random(len(truth))
    return X.astype(np.float32), quality, truth


def test_ucb_pick_hand_case():
    sel = QuadSelector(exploration=1.0)
    members = [np.arange(3), np.arange(3, 6)]
    means, pulls, taken = np.array([0.5, 0.4]), np.array([4.0, 1.0]), np.zeros(2, dtype=int)
    # t = 1: exploitation; t = 0: the less-pulled arm; t = 0.5: 0.25 + 0.5*sqrt(2 ln5/4)=0.81 vs 0.2 + 0.5*sqrt(2 ln5)=1.10
    assert sel._pick(means, pulls, taken, members, 1.0) == 0
    assert sel._pick(means, pulls, taken, members, 0.0) == 1
    assert sel._pick(means, pulls, taken, members, 0.5) == 1
    assert sel._pick(means, pulls, np.array([0, 3]), members, 0.0) == 0  # exhausted arm is skipped


def test_round_robin_at_t0_and_exploitation_at_t1():
    X, q, truth = blobs()
    lo = select(X, 30, method="quad", quality=q, tradeoff=0.0, seed=0, n_clusters=3, batch_size=1)
    np.testing.assert_array_equal(np.bincount(truth[lo.indices]), [10, 10, 10])
    hi = select(X, 30, method="quad", quality=q, tradeoff=1.0, seed=0, n_clusters=3, batch_size=5)
    assert np.all(truth[hi.indices] == 2)
    assert q[hi.indices].mean() > q[lo.indices].mean()


@pytest.mark.parametrize("budget,batch", [(1, None), (17, 4), (100, 7), (120, 50)])
def test_exact_budget_distinct_and_seeded(budget, batch):
    X, q, _ = blobs()
    a = select(X, budget, method="quad", quality=q, tradeoff=0.5, seed=4, batch_size=batch)
    b = select(X, budget, method="quad", quality=q, tradeoff=0.5, seed=4, batch_size=batch)
    assert len(a.indices) == budget == len(np.unique(a.indices))
    np.testing.assert_array_equal(a.indices, b.indices)


def test_exhausted_best_cluster_spills_over():
    X, q, truth = blobs(n_per=10)
    sel = select(X, 25, method="quad", quality=q, tradeoff=1.0, seed=0, n_clusters=3, batch_size=4)
    assert np.sum(truth[sel.indices] == 2) == 10


def test_bad_parameters():
    with pytest.raises(UsageError):
        QuadSelector(batch_size=0)
    with pytest.raises(UsageError):
        QuadSelector(exploration=-1.0)
