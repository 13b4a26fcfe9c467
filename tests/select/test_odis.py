"""ODiS: orthogonal components of a score matrix reach both ends that top-k on the mean misses."""
import numpy as np
import pytest

from quadiv.errors import UsageError
from quadiv.front import front
from quadiv.select import get_selector, select
from quadiv.select._odis import oriented_components


def embeddings(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, 8))


@pytest.fixture(scope="module")
def quality_and_difficulty() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two correlated quality scores (r ~ 0.9) and one independent difficulty score."""
    rng = np.random.default_rng(0)
    n = 2000
    latent = rng.standard_normal(n)
    q1, q2 = latent + 0.3 * rng.standard_normal(n), latent + 0.3 * rng.standard_normal(n)
    difficulty = rng.standard_normal(n)
    return np.column_stack([q1, q2, difficulty]), (q1 + q2) / 2, difficulty


def test_it_picks_from_both_ends_that_top_k_on_the_mean_misses(quality_and_difficulty):
    scores, quality, difficulty = quality_and_difficulty
    budget = 100
    sel = select(embeddings(len(scores)), budget, method="odis", scores=scores)
    assert sel.params["components"] == 2 and len(set(sel.indices.tolist())) == budget
    top_mean = np.argsort(-scores.mean(axis=1), kind="stable")[:budget]
    best_quality, hardest = np.argsort(-quality)[:50], np.argsort(-difficulty)[:50]
    assert np.isin(best_quality, sel.indices).all() and np.isin(hardest, sel.indices).all()
    assert np.isin(hardest, top_mean).sum() <= 20 and np.isin(best_quality, top_mean).sum() <= 40
    missed = np.setdiff1d(sel.indices, top_mean)
    assert (difficulty[missed] < 0).sum() >= 10 and (quality[missed] < 0).sum() >= 10  # the two ends


def test_independent_components_pick_nearly_disjoint_sets():
    scores = np.random.default_rng(1).standard_normal((5000, 3))
    sel = select(embeddings(5000), 150, method="odis", scores=scores)
    assert sel.params["components"] == 3 and sel.params["quotas"] == [50, 50, 50]
    assert sel.params["overlap"] < 0.05 and sel.params["filled"] < 0.05 * 150


def test_components_are_uncorrelated_and_point_towards_the_mean_score(quality_and_difficulty):
    scores, _, _ = quality_and_difficulty
    C, explained = oriented_components(scores, components=3)
    np.testing.assert_allclose(np.corrcoef(C.T), np.eye(3), atol=1e-10)
    mean_score = scores.mean(axis=1)
    assert all(np.corrcoef(C[:, j], mean_score)[0, 1] > 0 for j in range(2))
    assert explained.sum() == pytest.approx(1.0) and list(explained) == sorted(explained, reverse=True)


def test_quality_alone_is_top_k_on_quality():
    X = embeddings(300)
    quality = np.random.default_rng(2).random(300)
    assert (select(X, 40, method="odis", quality=quality).indices.tolist()
            == select(X, 40, method="top-quality", quality=quality).indices.tolist())


def test_it_runs_in_a_front_sweep():
    X = embeddings(120)
    quality = np.random.default_rng(3).random(120)
    out = front(X, budget=20, methods=["odis"], tradeoffs="0:1:3", quality=quality)
    assert [p["method"] for p in out["points"]] == ["odis"] * 3


def test_bad_arguments_name_themselves():
    X = embeddings(10)
    with pytest.raises(UsageError, match=r"needs scores: pass scores \(CLI: --score-fields\)"):
        select(X, 3, method="odis")
    with pytest.raises(UsageError, match=r"`scores` must be a finite \(n, m\) array with n = 10 rows, got shape \(9, 2\)"):
        select(X, 3, method="odis", scores=np.ones((9, 2)))
    with pytest.raises(UsageError, match=r"`components` is 3 but the score matrix has only 2 columns"):
        get_selector("odis", components=3).select(X, 3, scores=np.random.default_rng(0).random((10, 2)))
    with pytest.raises(UsageError, match="positive integer"):
        get_selector("odis", components=0)
