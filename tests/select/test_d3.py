"""Tests for the D3 weighted-coreset selector."""
import numpy as np
import pytest

from quadiv.errors import UsageError
from quadiv.select import D3Selector, select
from quadiv.select._d3 import covering_radius


def conflict_set(seed=0):
    """A dense high-quality blob plus scattered low-quality points (quality and diversity disagree)."""
    rng = np.random.default_rng(seed)
    dense = np.array([1.0, 0, 0, 0]) + 0.05 * rng.normal(size=(60, 4))
    spread = rng.normal(size=(60, 4))
    X = np.vstack([dense, spread])
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    quality = np.concatenate([0.8 + 0.2 * rng.random(60), 0.3 * rng.random(60)])
    return X, quality


def arc(angles):
    """Unit rows at these angles on a circle: the distance between two is the chord 2 sin(delta / 2)."""
    return np.stack([np.cos(angles), np.sin(angles)], axis=1)


def test_unweighted_greedy_is_farthest_first():
    X = arc(np.array([0.0, 0.1, 0.2, 1.0]))
    sel = select(X, 3, method="d3", tradeoff=0.0)
    np.testing.assert_array_equal(sel.indices, [0, 3, 2])
    np.testing.assert_allclose(sel.gains[1:], [2 * np.sin(0.5), 2 * np.sin(0.1)])
    assert sel.objective == pytest.approx(1.001 * 2 * np.sin(0.05))  # the point at 0.1, weight v + 1e-3


def test_weights_change_the_greedy_choice():
    X = arc(np.array([0.0, 0.1, 0.2, 1.0]))
    # t = 0.5: w = v + 1e-3 with v the min-max scaled quality, so the far point weighs 0.001 and
    # 0.001 * 2 sin(0.5) < 1.001 * 2 sin(0.1): the point at 0.2 wins
    sel = select(X, 2, method="d3", quality=np.array([1.0, 1.0, 1.0, 0.0]), tradeoff=0.5)
    np.testing.assert_array_equal(sel.indices, [0, 2])


def test_covering_radius_closed_form():
    X = np.array([[0.0], [1.0], [4.0]])
    assert covering_radius(X, np.array([0]), np.array([1.0, 1.0, 0.5])) == pytest.approx(2.0)


def test_t1_is_top_value_and_t0_ignores_quality():
    X, q = conflict_set()
    top = select(X, 10, method="d3", quality=q, tradeoff=1.0)
    np.testing.assert_array_equal(np.sort(top.indices), np.sort(np.argsort(-q)[:10]))
    plain = select(X, 10, method="d3", quality=np.zeros(len(q)), tradeoff=0.0)
    assert np.array_equal(select(X, 10, method="d3", quality=q, tradeoff=0.0).indices[1:], plain.indices[1:])


def test_quality_rises_with_tradeoff_and_half_mixes():
    X, q = conflict_set()
    means = [q[select(X, 20, method="d3", quality=q, tradeoff=t).indices].mean() for t in (0.0, 0.5, 1.0)]
    assert means[0] < means[1] <= means[2]


def test_difficulty_and_dependability_replace_quality():
    X, q = conflict_set()
    difficulty = -q
    sel = select(X, 10, method="d3", quality=q, tradeoff=1.0, difficulty=difficulty, dependability=difficulty)
    np.testing.assert_array_equal(np.sort(sel.indices), np.sort(np.argsort(q)[:10]))
    mixed = select(X, 10, method="d3", quality=q, tradeoff=1.0, difficulty=difficulty, difficulty_weight=0.0)
    np.testing.assert_array_equal(np.sort(mixed.indices), np.sort(np.argsort(-q)[:10]))


@pytest.mark.parametrize("budget", [1, 13, 120])
def test_exact_budget_distinct_and_deterministic(budget):
    X, q = conflict_set()
    a = select(X, budget, method="d3", quality=q, tradeoff=0.5, seed=1)
    b = select(X, budget, method="d3", quality=q, tradeoff=0.5, seed=1)
    assert len(a.indices) == budget == len(np.unique(a.indices))
    np.testing.assert_array_equal(a.indices, b.indices)


def test_bad_inputs():
    X, q = conflict_set()
    with pytest.raises(UsageError):
        select(X, 3, method="d3", quality=q, difficulty=np.ones(3))
    with pytest.raises(UsageError):
        D3Selector(difficulty_weight=2.0)


@pytest.mark.parametrize("tradeoff", [0.0, 0.5, 0.9])
def test_objective_is_the_weighted_covering_radius_of_the_picks(tradeoff):
    X, q = conflict_set(seed=2)
    sel = select(X, 15, method="d3", quality=q, tradeoff=tradeoff)
    value = (q - q.min()) / (q.max() - q.min())
    assert sel.objective == pytest.approx(covering_radius(X, sel.indices, value + 1e-3), rel=1e-9)
