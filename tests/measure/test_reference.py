"""prdc against the reference `prdc` package, closed forms and input validation."""
from __future__ import annotations

import numpy as np
import prdc as reference
import pytest

from quadiv.errors import UsageError
from quadiv.measure import prdc

KEYS = ("precision", "recall", "density", "coverage")


def _assert_matches_reference(real: np.ndarray, fake: np.ndarray, k: int, **kwargs) -> dict:
    ours = prdc(real, fake, k, **kwargs)
    theirs = reference.compute_prdc(real, fake, k)
    for key in KEYS:
        assert ours[key] == pytest.approx(float(theirs[key]), abs=1e-6), key
    return ours


@pytest.mark.parametrize(("n", "m", "d", "k"), [(400, 300, 16, 5), (600, 700, 48, 3), (250, 250, 8, 10)])
def test_matches_prdc_package_on_random_data(n: int, m: int, d: int, k: int) -> None:
    rng = np.random.default_rng(n + m + d + k)
    real = rng.standard_normal((n, d)).astype(np.float32)
    fake = (1.2 * rng.standard_normal((m, d)) + 0.3).astype(np.float32)
    out = _assert_matches_reference(real, fake, k, batch_size=97)
    assert 0 < out["precision"] < 1 and 0 < out["coverage"] < 1


def test_matches_prdc_package_on_tight_unit_norm_embeddings() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal(128) + 0.05 * rng.standard_normal((1200, 128))
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    _assert_matches_reference(x[:700], x[700:], 5)


def test_matches_prdc_package_with_duplicates_and_shared_points() -> None:
    # Integer grid points: many exact duplicates and ties with the radii, resolved like `prdc`.
    rng = np.random.default_rng(2)
    real = rng.integers(0, 3, (400, 4)).astype(np.float32)
    fake = np.vstack([real[:150], rng.integers(0, 3, (200, 4))]).astype(np.float32)
    _assert_matches_reference(real, fake, 5)


def test_matches_prdc_package_on_real_text_embeddings(alpaca_rows) -> None:
    import sklearn.feature_extraction.text as sklearn_text
    from sklearn import decomposition
    rows = alpaca_rows
    real_texts = [r["output"] for r in rows if r["generator"] == "gpt-3.5-turbo-1106"]
    fake_texts = [r["output"] for r in rows if r["generator"] == "alpaca-7b"]
    tfidf = sklearn_text.TfidfVectorizer(min_df=2).fit_transform(real_texts + fake_texts)
    emb = decomposition.TruncatedSVD(64, random_state=0).fit_transform(tfidf)
    norms = np.linalg.norm(emb, axis=1, keepdims=True)
    emb = (emb / np.where(norms > 0, norms, 1.0)).astype(np.float32)  # empty outputs stay at the origin
    real, fake = emb[: len(real_texts)], emb[len(real_texts):]
    out = _assert_matches_reference(real, fake, 5, batch_size=256)
    assert 0 < out["recall"] < 1


def test_identical_sets_give_one_everywhere() -> None:
    x = np.random.default_rng(3).standard_normal((300, 12)).astype(np.float32)
    out = prdc(x, x.copy(), 4, batch_size=50)
    assert out == {"precision": 1.0, "recall": 1.0, "density": 1.0, "coverage": 1.0}


def test_far_apart_sets_give_zero_everywhere() -> None:
    rng = np.random.default_rng(4)
    real = rng.standard_normal((100, 5))
    out = prdc(real, rng.standard_normal((80, 5)) + 100.0, 3)
    assert out == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}


def test_batch_size_does_not_change_the_result() -> None:
    rng = np.random.default_rng(5)
    real, fake = rng.standard_normal((200, 6)), rng.standard_normal((150, 6)) * 0.8
    assert prdc(real, fake, 5, batch_size=1) == prdc(real, fake, 5, batch_size=10_000)


def test_nan_is_a_usage_error_naming_the_row() -> None:
    fake = np.zeros((10, 3))
    fake[7, 1] = np.nan
    with pytest.raises(UsageError, match=r"fake\[7, 1\]"):
        prdc(np.ones((10, 3)), fake, 2)


@pytest.mark.parametrize(("real_shape", "fake_shape", "k", "match"), [
    ((10, 3), (10, 4), 2, "same dimension"),
    ((10, 3), (5, 3), 5, "more than k points"),
    ((10, 3), (10, 3), 0, "positive integer"),
    ((10,), (10, 3), 2, "2-D"),
])
def test_bad_arguments_are_usage_errors(real_shape, fake_shape, k, match) -> None:
    with pytest.raises(UsageError, match=match):
        prdc(np.ones(real_shape), np.ones(fake_shape), k)


def test_float64_input_keeps_float64_distances_like_prdc() -> None:
    # The fake point at -(1 - 1e-12) lies strictly inside the real point 0's radius 1 in float64, on it in
    # float32: prdc (scikit-learn) keeps float64 for float64 input, so that point counts for precision.
    real = np.array([[0.0], [1.0], [5.0], [6.0]])
    fake = np.array([[-(1.0 - 1e-12)], [20.0], [30.0]])
    out = prdc(real, fake, 1)
    assert out["precision"] == pytest.approx(1 / 3) and out["coverage"] == pytest.approx(1 / 4)
    assert out == reference.compute_prdc(real, fake, 1)
    assert prdc(real.astype(np.float32), fake.astype(np.float32), 1)["precision"] == 0.0
