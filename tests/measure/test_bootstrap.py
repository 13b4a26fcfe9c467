"""Percentile-bootstrap intervals: closed forms, the normal approximation, per-group resampling."""
import math

import numpy as np
import pytest

from quadiv.errors import UsageError
from quadiv.measure import add_intervals, bootstrap_ci, measure


def test_two_point_set_interval_is_the_whole_range():
    # mean of 2 draws from {0, 1}: 0, 1/2, 1 with probabilities 1/4, 1/2, 1/4 -> 2.5% and 97.5% quantiles 0 and 1
    ci = bootstrap_ci(quality=np.array([0.0, 1.0]), metrics=["quality_mean"], n_resamples=2000, seed=1)
    assert ci == {"quality_mean": [0.0, 1.0]}


def test_constant_and_identical_sets_have_a_point_interval():
    X = np.tile(np.array([[0.6, 0.8]], dtype=np.float32), (20, 1))
    ci = bootstrap_ci(X, quality=np.full(20, 0.3), metrics=["vendi", "quality_mean"], n_resamples=50)
    assert ci["vendi"] == pytest.approx([1.0, 1.0]) and ci["quality_mean"] == pytest.approx([0.3, 0.3])


def test_mean_interval_matches_the_normal_approximation():
    q = np.random.default_rng(0).normal(size=400)
    lo, hi = bootstrap_ci(quality=q, metrics=["quality_mean"], n_resamples=4000, seed=2)["quality_mean"]
    half = 1.959964 * q.std() / math.sqrt(q.size)  # CLT: mean +- z_0.975 sigma / sqrt(n)
    assert lo == pytest.approx(q.mean() - half, abs=0.15 * half)
    assert hi == pytest.approx(q.mean() + half, abs=0.15 * half)


def test_seeded_and_confidence_narrows():
    q = np.random.default_rng(3).random(60)
    a = bootstrap_ci(quality=q, metrics=["quality_mean"], n_resamples=300, seed=5)
    assert a == bootstrap_ci(quality=q, metrics=["quality_mean"], n_resamples=300, seed=5)
    narrow = bootstrap_ci(quality=q, metrics=["quality_mean"], n_resamples=300, seed=5, confidence=0.5)
    assert a["quality_mean"][0] < narrow["quality_mean"][0] < narrow["quality_mean"][1] < a["quality_mean"][1]
    with pytest.raises(UsageError, match="resamples"):
        bootstrap_ci(quality=q, metrics=["quality_mean"], n_resamples=1)
    with pytest.raises(UsageError, match="confidence"):
        bootstrap_ci(quality=q, metrics=["quality_mean"], n_resamples=10, confidence=1.0)


def test_each_group_resamples_only_its_own_rows():
    E = np.eye(4, dtype=np.float32)
    X = np.vstack([np.tile(E[0], (10, 1)), E[np.arange(12) % 4]])  # group a: one point; b: four orthogonal
    groups = np.array(["a"] * 10 + ["b"] * 12)
    quality = np.r_[np.zeros(10), np.ones(12)]
    result = measure(X, quality=quality, groups=groups, metrics=["vendi", "quality_mean"])
    add_intervals(result, X, None, quality, groups, n_resamples=200, metrics=["vendi", "quality_mean"], seed=0)
    ci = result["ci"]
    assert ci["confidence"] == 0.95 and ci["n_resamples"] == 200
    assert ci["groups"]["a"] == {"vendi": [1.0, 1.0], "quality_mean": [0.0, 0.0]}
    lo, hi = ci["groups"]["b"]["vendi"]
    assert 1.0 < lo <= hi <= 4.0 + 1e-9 and ci["groups"]["b"]["quality_mean"] == [1.0, 1.0]
    assert 0.0 < ci["all"]["quality_mean"][0] < 12 / 22 < ci["all"]["quality_mean"][1] < 1.0


def test_texts_are_tokenised_once_not_per_resample(monkeypatch):
    from quadiv.measure import _lexical

    calls = []
    real = _lexical.tokenize
    monkeypatch.setattr(_lexical, "tokenize", lambda text: calls.append(text) or real(text))
    texts = ["a b c", "a b d", "e f g", "a b c"]
    ci = bootstrap_ci(texts=texts, metrics=["distinct_1", "distinct_2"], n_resamples=30, seed=0)
    assert len(calls) == len(texts)
    assert 0.0 < ci["distinct_1"][0] <= ci["distinct_1"][1] <= 1.0
