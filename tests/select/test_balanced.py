"""Tests for the group-balanced selector."""
import numpy as np
import pytest

from quadiv.errors import UsageError
from quadiv.select import select
from quadiv.select._balanced import group_greedy


def pool(sizes=(50, 50, 50), d=5, seed=0):
    rng = np.random.default_rng(seed)
    n = sum(sizes)
    X = rng.normal(size=(n, d))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    groups = np.repeat(np.array(["a", "b", "c"][: len(sizes)]), sizes)
    return X, rng.random(n), groups


def test_groups_required():
    X, q, _ = pool()
    with pytest.raises(UsageError, match="group"):
        select(X, 3, method="balanced", quality=q)


@pytest.mark.parametrize("tradeoff", [0.0, 0.5, 1.0])
def test_equal_shares_exact(tradeoff):
    X, q, g = pool()
    sel = select(X, 30, method="balanced", quality=q, groups=g, tradeoff=tradeoff, seed=1)
    assert len(np.unique(sel.indices)) == 30
    assert {k: int(v) for k, v in zip(*np.unique(g[sel.indices], return_counts=True))} == {"a": 10, "b": 10, "c": 10}


def test_target_shares_exact():
    X, q, g = pool()
    sel = select(X, 40, method="balanced", quality=q, groups=g, shares={"a": 2, "b": 1, "c": 1})
    assert sel.params["counts"] == {"a": 20, "b": 10, "c": 10}


def test_small_group_share_is_redistributed():
    X, q, g = pool(sizes=(50, 50, 3))
    sel = select(X, 30, method="balanced", quality=q, groups=g)
    assert sel.params["counts"] == {"a": 14, "b": 13, "c": 3}
    assert len(np.unique(sel.indices)) == 30


def test_t1_is_top_quality_within_groups():
    X, q, g = pool()
    sel = select(X, 15, method="balanced", quality=q, groups=g, tradeoff=1.0)
    for name in "abc":
        members = np.flatnonzero(g == name)
        expected = set(members[np.argsort(-q[members])[:5]].tolist())
        assert set(sel.indices[g[sel.indices] == name].tolist()) == expected


def test_t0_is_farthest_first_hand_case():
    X = np.array([[0.0], [1.0], [2.0], [10.0]])
    picks = group_greedy(X, np.zeros(4), 3, 0.0, np.arange(4))
    np.testing.assert_array_equal(picks, [0, 3, 2])


def test_seeded_and_quality_rises_with_tradeoff():
    X, q, g = pool()
    a = select(X, 24, method="balanced", quality=q, groups=g, tradeoff=0.0, seed=5)
    b = select(X, 24, method="balanced", quality=q, groups=g, tradeoff=0.0, seed=5)
    np.testing.assert_array_equal(a.indices, b.indices)
    hi = select(X, 24, method="balanced", quality=q, groups=g, tradeoff=1.0, seed=5)
    assert q[hi.indices].mean() > q[a.indices].mean()


def test_bad_shares():
    X, _, g = pool()
    with pytest.raises(UsageError, match="not in the data"):
        select(X, 5, method="balanced", groups=g, shares={"zzz": 1.0})
    with pytest.raises(UsageError):
        select(X, 5, method="balanced", groups=g, shares={"a": -1.0})
