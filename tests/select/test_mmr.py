"""MMR (Carbonell & Goldstein 1998) against a naive implementation and hand-worked examples."""
import numpy as np
import pytest

from quadiv.select import MMRSelector, select, unit_quality


def _naive_mmr(X: np.ndarray, rel: np.ndarray, k: int, lam: float) -> tuple[list[int], list[float]]:
    """The MMR formula with an explicit max over S for every candidate."""
    picks = [int(np.argmax(rel))]
    scores = [lam * rel[picks[0]]]
    while len(picks) < k:
        best, best_val = -1, -np.inf
        for i in range(len(rel)):
            if i in picks:
                continue
            val = lam * rel[i] - (1 - lam) * max(float(X[i] @ X[j]) for j in picks)
            if val > best_val:
                best, best_val = i, val
        picks.append(best)
        scores.append(best_val)
    return picks, scores


@pytest.mark.parametrize("lam", [0.0, 0.3, 0.7, 1.0])
def test_matches_naive_mmr(lam):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 12))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    q = rng.random(60) * 5 - 2
    sel = select(X, 15, method="mmr", quality=q, tradeoff=lam)
    picks, scores = _naive_mmr(X, unit_quality(q, 60), 15, lam)
    assert sel.indices.tolist() == picks
    np.testing.assert_allclose(sel.gains, scores, rtol=1e-12, atol=1e-12)
    assert sel.objective == pytest.approx(sum(scores))


def test_lambda_one_is_top_quality_order():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 6))
    q = rng.random(40)
    sel = MMRSelector().select(X, 12, quality=q, tradeoff=1.0)
    assert sel.indices.tolist() == np.argsort(-q)[:12].tolist()


def test_lambda_zero_without_quality_is_farthest_first():
    c10, c5, h = np.cos(np.radians(10)), np.cos(np.radians(5)), np.sqrt(0.5)
    s10, s5 = np.sin(np.radians(10)), np.sin(np.radians(5))
    # unit vectors at 0, 10, 90, 180, 185, 270 and 45 degrees, written exactly where possible
    X = np.array([[1, 0], [c10, s10], [0, 1], [-1, 0], [-c5, -s5], [0, -1], [h, h]])
    sel = select(X, 5, method="mmr", tradeoff=0.0)
    # start at item 0 (all equally relevant), then the opposite point (180), then 90 and 270
    # (cosine 0 to both; 90 has the lower index), then 45 (max cosine 0.707 beats 10's 0.985)
    assert sel.indices.tolist() == [0, 3, 2, 5, 6]
    np.testing.assert_allclose(sel.gains, [0.0, 1.0, 0.0, 0.0, -np.cos(np.radians(45))], atol=1e-12)


def test_quality_breaks_the_redundancy_tie():
    X = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    sel = select(X, 2, method="mmr", quality=np.array([1.0, 0.9, 0.0]), tradeoff=0.5)
    # item 1 duplicates item 0: 0.5 * 0.9 - 0.5 * 1 = -0.05 < item 2's 0.5 * 0 - 0.5 * 0 = 0
    assert sel.indices.tolist() == [0, 2]
