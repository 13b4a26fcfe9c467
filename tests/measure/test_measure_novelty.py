"""Novelty against a reference set: copies score 0, brute force agrees, the novelty-utility front ignores scale."""
import numpy as np
import pytest

from quadiv.errors import UsageError
from quadiv.front import pareto_mask
from quadiv.measure import measure, ngram_novelty, novelty, novelty_utility, pooled_ngram_novelty


def unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def sets() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return unit(rng.standard_normal((40, 16))).astype(np.float32), unit(rng.standard_normal((60, 16))).astype(np.float32)


def test_per_item_novelty_is_one_minus_the_nearest_cosine(sets):
    X, R = sets
    values = novelty(X * 3.0, R)  # rows are normalised first
    assert values.shape == (40,)
    np.testing.assert_allclose(values, 1.0 - (X.astype(np.float64) @ R.T.astype(np.float64)).max(axis=1), atol=1e-6)


def test_an_item_copied_from_the_reference_is_not_novel_and_an_orthogonal_one_is(sets):
    _, R = sets
    copied = novelty(R[[3, 7]], R)
    assert copied.tolist() == pytest.approx([0.0, 0.0], abs=1e-6) and copied.min() >= 0.0
    assert novelty(np.eye(4)[[0]], np.eye(4)[1:]).tolist() == [1.0]


def test_ngram_novelty_counts_unseen_ngrams():
    reference = ["the cat sat on the mat", "a dog ran"]
    texts = ["the cat sat on the mat", "the cat ran fast", "zebra", "purple zebras dance wildly"]
    per_item = ngram_novelty(texts, reference)
    assert per_item[0] == 0.0 and per_item[1] == pytest.approx(2 / 3) and np.isnan(per_item[2])
    assert per_item[3] == 1.0
    assert pooled_ngram_novelty(texts, reference) == pytest.approx((0 + 2 + 3) / (5 + 3 + 3))
    assert ngram_novelty(["cat dog"], ["cat", "dog"], n=1).tolist() == [0.0]


def test_novelty_times_utility_stays_below_each_when_both_lie_in_the_unit_interval(sets):
    X, R = sets
    nov = np.clip(novelty(X, R), 0, 1)
    q = np.random.default_rng(1).random(len(X))
    assert np.all(nov * q <= np.minimum(nov, q)) and novelty_utility(nov, q) == pytest.approx(np.mean(nov * q))


def test_the_novelty_utility_front_is_unchanged_by_monotone_rescaling(sets):
    X, R = sets
    nov, q = novelty(X, R), np.random.default_rng(2).random(len(X))
    front = pareto_mask(np.column_stack([nov, q]), ["max", "max"])
    assert 1 < front.sum() < len(X)
    for f, g in ((lambda v: v ** 3 + 2, np.log1p), (np.exp, lambda v: 10 * v - 4), (np.sqrt, np.arctan)):
        assert pareto_mask(np.column_stack([f(nov), g(q)]), ["max", "max"]).tolist() == front.tolist()


def test_measure_reports_novelty_with_a_reference(sets):
    X, R = sets
    texts = [f"item {i} words" for i in range(len(X))]
    q = np.linspace(0, 1, len(X))
    out = measure(X, texts, q, metrics=["vendi"], reference=R, reference_texts=["item words"])["metrics"]
    per_item = novelty(X, R)
    assert out["novelty"] == pytest.approx(per_item.mean())
    assert out["novelty_utility"] == pytest.approx(np.mean(per_item * q))
    assert out["novelty_ngram"] == pytest.approx(pooled_ngram_novelty(texts, ["item words"]))
    with pytest.raises(UsageError, match=r"metric 'novelty' needs a reference set \(`reference`\)"):
        measure(X, metrics=["novelty"])
    with pytest.raises(UsageError, match="same dimension"):
        novelty(X, R[:, :8])
