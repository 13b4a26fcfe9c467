"""Zero embedding rows (texts the embedder could not embed) are one shared point for every selector."""
import math
from itertools import combinations

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from quadiv.geometry import unit_rows
from quadiv.select import SELECTORS, get_selector

GREEDY = ("dpp", "facility-location", "k-center", "mmr", "qvendi")


def pool_with_zero_rows(n: int = 40, d: int = 16, zeros: tuple[int, ...] = (3, 11, 12, 30), seed: int = 0):
    X = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32) * 3.0  # not unit rows
    X[list(zeros)] = 0.0
    return X, np.array(zeros)


def test_unit_rows_maps_every_zero_row_to_one_point_orthogonal_to_the_rest():
    X, zeros = pool_with_zero_rows()
    U = unit_rows(X)
    assert U.shape == (40, 17) and U.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(U, axis=1), 1.0, atol=1e-6)
    G = U @ U.T
    np.testing.assert_allclose(G[np.ix_(zeros, zeros)], 1.0)
    others = np.setdiff1d(np.arange(40), zeros)
    np.testing.assert_array_equal(G[np.ix_(zeros, others)], 0.0)
    expected = X[others] / np.linalg.norm(X[others], axis=1, keepdims=True)
    np.testing.assert_allclose(U[others, :16], expected, atol=1e-6)
    assert unit_rows(X, empty_axis=False).shape == (40, 16)
    assert not unit_rows(X, empty_axis=False)[zeros].any()
    clean = unit_rows(X[others])
    assert clean.shape == (36, 16) and unit_rows(clean) is clean  # no column, no copy without zero rows


@pytest.mark.parametrize("method", sorted(SELECTORS))
def test_every_selector_is_sane_on_a_pool_with_zero_rows(method):
    X, zeros = pool_with_zero_rows()
    quality = np.random.default_rng(1).random(40)
    groups = np.arange(40) % 3
    budget = 10
    for tradeoff in (0.0, 0.5):
        sel = get_selector(method).select(X, budget, quality=quality, tradeoff=tradeoff, groups=groups, seed=2)
        picks = sel.indices.tolist()
        assert len(picks) == budget == len(set(picks)) and all(0 <= i < 40 for i in picks)
        assert math.isfinite(sel.objective), (method, tradeoff, sel.objective)
        assert sel.gains is None or np.isfinite(sel.gains).all()
        # the four zero rows are one point: not all picked first, and a greedy diversity method
        # (whose next pick depends on the picks so far) takes that point at most once
        assert not set(picks[: len(zeros)]) >= set(zeros.tolist())
        if tradeoff == 0.0 and method in GREEDY:
            assert np.isin(picks, zeros).sum() <= 1, (method, picks)


def brute_force_kcenter_radius(U: np.ndarray, first: int, budget: int) -> tuple[list[int], float]:
    """Gonzalez's farthest-point rule written out with scipy's pairwise distances."""
    D = cdist(U.astype(np.float64), U.astype(np.float64))
    picks = [first]
    while len(picks) < budget:
        d = D[:, picks].min(axis=1)
        d[picks] = -1.0
        picks.append(int(np.argmax(d)))
    return picks, float(D[:, picks].min(axis=1).max())


def test_kcenter_with_zero_rows_matches_brute_force_and_covers_them():
    X, zeros = pool_with_zero_rows()
    sel = SELECTORS["k-center"]().select(X, 12, tradeoff=0.0, seed=4)
    U = unit_rows(X)
    picks, radius = brute_force_kcenter_radius(U, int(sel.indices[0]), 12)
    assert sel.indices.tolist() == picks
    assert sel.objective == pytest.approx(radius, abs=1e-5)
    assert sel.objective < math.sqrt(2) - 1e-3  # before: stuck at sqrt(2), zero rows never covered
    assert np.isin(sel.indices, zeros).sum() == 1


def test_kcenter_radius_is_within_twice_the_optimum_with_zero_rows():
    X, _ = pool_with_zero_rows(n=12, d=3, zeros=(0, 5, 6))
    U = unit_rows(X).astype(np.float64)
    D = cdist(U, U)
    budget = 4
    optimum = min(D[:, list(c)].min(axis=1).max() for c in combinations(range(12), budget))
    sel = SELECTORS["k-center"]().select(X, budget, tradeoff=0.0, seed=0)
    assert optimum > 0 and sel.objective <= 2 * optimum + 1e-6


@pytest.mark.parametrize("seed", range(3))
def test_kcenter_covers_every_point_once_the_budget_exceeds_the_distinct_points(seed):
    base = np.random.default_rng(seed).standard_normal((5, 4)).astype(np.float32)
    X = np.vstack([base, base * 2.0, np.zeros((3, 4), dtype=np.float32)])  # 5 directions + the empty point
    sel = SELECTORS["k-center"]().select(X, 7, tradeoff=0.0, seed=seed)
    assert sel.objective == pytest.approx(0.0, abs=1e-3)  # 6 distinct points, 7 centres: all covered
    assert np.isin(sel.indices[:6], [10, 11, 12]).sum() == 1
