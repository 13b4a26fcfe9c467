from itertools import combinations

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from quadiv.errors import UsageError
from quadiv.select import SELECTORS, KCenter, RandomSelector, TopQuality


def unit(n: int, d: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, d))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_registered():
    assert SELECTORS["random"] is RandomSelector
    assert SELECTORS["top-quality"] is TopQuality
    assert SELECTORS["k-center"] is KCenter


def test_random_is_seeded_distinct_and_uniform():
    X = unit(10, 3, 0)
    a = RandomSelector().select(X, 5, seed=1)
    assert len(set(a.indices.tolist())) == 5
    np.testing.assert_array_equal(a.indices, RandomSelector().select(X, 5, seed=1).indices)
    counts = np.bincount(np.concatenate([RandomSelector().select(X, 5, seed=s).indices for s in range(2000)]),
                         minlength=10)
    np.testing.assert_allclose(counts / 2000, 0.5, atol=0.05)  # each item drawn with probability k/n


def test_top_quality_order_ties_and_errors():
    X = unit(6, 3, 1)
    q = np.array([0.2, 0.9, 0.5, 0.9, -1.0, 0.5])
    sel = TopQuality().select(X, 4, quality=q, tradeoff=0.0)
    assert sel.indices.tolist() == [1, 3, 2, 5]
    # mid-ranks: -1 -> 1, 0.2 -> 2, 0.5 -> 3.5, 0.9 -> 5.5; unit = (r - 1) / 4.5: 0.9 -> 1, 0.5 -> 5/9
    assert sel.objective == pytest.approx((1 + 1 + 5 / 9 + 5 / 9) / 4)
    with pytest.raises(UsageError):
        TopQuality().select(X, 2)
    with pytest.raises(UsageError):
        TopQuality().select(X, 7, quality=q)


def gonzalez(X: np.ndarray, k: int, first: int) -> list[int]:
    """Reference farthest-point traversal on the full distance matrix."""
    D = cdist(X.astype(np.float64), X.astype(np.float64))
    picks = [first]
    while len(picks) < k:
        picks.append(int(np.argmax(D[:, picks].min(axis=1))))
    return picks


def test_k_center_t0_is_gonzalez_and_two_approximate():
    X = unit(12, 3, 2)
    q = np.random.default_rng(3).random(12)
    sel = KCenter().select(X, 4, quality=q, tradeoff=0.0)
    assert sel.indices.tolist() == gonzalez(X, 4, int(np.argmax(q)))
    assert np.all(np.diff(sel.gains) <= 1e-12)
    D = cdist(X.astype(np.float64), X.astype(np.float64))
    assert sel.objective == pytest.approx(D[:, sel.indices].min(axis=1).max(), abs=1e-5)
    optimum = min(D[:, list(S)].min(axis=1).max() for S in combinations(range(12), 4))
    assert sel.objective <= 2 * optimum + 1e-6


def test_k_center_first_pick_and_tradeoff():
    X = unit(50, 4, 4)
    q = np.random.default_rng(5).random(50)
    a = KCenter().select(X, 5, seed=7)
    np.testing.assert_array_equal(a.indices, KCenter().select(X, 5, seed=7).indices)
    assert a.indices[0] == np.random.default_rng(7).integers(50)
    top = TopQuality().select(X, 10, quality=q)
    np.testing.assert_array_equal(KCenter().select(X, 10, quality=q, tradeoff=1.0).indices, top.indices)
    mixed = KCenter().select(X, 10, quality=q, tradeoff=0.5)
    qu = np.argsort(np.argsort(q)) / 49  # distinct scores: unit quality = rank / (n - 1)
    D = cdist(X.astype(np.float64), X.astype(np.float64))
    for m in range(1, 10):  # each pick maximises (1 - t) d_j / 2 + t q~_j over the items left
        chosen = mixed.indices[:m]
        score = 0.5 * D[:, chosen].min(axis=1) / 2 + 0.5 * qu
        score[chosen] = -np.inf
        assert score[mixed.indices[m]] == pytest.approx(score.max(), abs=1e-6)
