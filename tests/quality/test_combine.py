"""combine(): closed forms, scipy's ranks as the reference, groups, directions and the NaN policy."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import rankdata

from quadiv.errors import InputError, UsageError
from quadiv.quality import combine, normalize_column


def test_rank_is_scipy_average_rank_over_count_ignoring_nan():
    x = np.array([3.0, 1.0, np.nan, 3.0, 7.0])
    out = normalize_column(x, "rank")
    np.testing.assert_allclose(out[[0, 1, 3, 4]], rankdata([3, 1, 3, 7]) / 4)
    assert np.isnan(out[2])


def test_zscore_and_minmax_closed_forms():
    x = np.array([1.0, 2.0, 3.0, 6.0])
    np.testing.assert_allclose(normalize_column(x, "zscore"), (x - 3.0) / np.sqrt(3.5))
    np.testing.assert_allclose(normalize_column(x, "minmax"), [0, 0.2, 0.4, 1])
    np.testing.assert_array_equal(normalize_column(np.ones(3), "zscore"), 0.0)


def test_mean_of_ranks_and_direction_flip():
    cols = {"a": [1.0, 2.0, 3.0], "b": [30.0, 10.0, 20.0]}
    np.testing.assert_allclose(combine(cols), [(1 / 3 + 1) / 2, (2 / 3 + 1 / 3) / 2, (1 + 2 / 3) / 2])
    flipped = combine(cols, directions={"b": False})  # b: lower is better
    np.testing.assert_allclose(flipped, [(1 / 3 + 1 / 3) / 2, (2 / 3 + 1) / 2, (1 + 2 / 3) / 2])


def test_product_is_deita_quality_times_complexity_on_raw_scores():
    quality, complexity = np.array([4.0, 2.5, 5.0]), np.array([1.5, 3.0, 1.0])
    np.testing.assert_allclose(combine({"q": quality, "c": complexity}, normalize="none", aggregate="product"),
                               quality * complexity)


def test_min_weighted_and_groups():
    cols = {"a": [0.0, 1.0, 2.0, 3.0], "b": [3.0, 2.0, 1.0, 0.0]}
    np.testing.assert_allclose(combine(cols, normalize="none", aggregate="min"), [0, 1, 1, 0])
    np.testing.assert_allclose(combine(cols, normalize="none", aggregate="weighted", weights={"a": 3, "b": 1}),
                               [(0 + 3) / 4, (3 + 2) / 4, (6 + 1) / 4, (9 + 0) / 4])
    within = combine({"a": [1.0, 2.0, 100.0, 200.0]}, groups=["x", "x", "y", "y"])
    np.testing.assert_allclose(within, [0.5, 1, 0.5, 1])  # each group ranked on its own


def test_combined_score_is_monotone_in_each_column():
    rng = np.random.default_rng(0)
    cols = {"a": rng.random(50), "b": rng.random(50)}
    base = combine(cols, normalize="minmax")
    bumped = dict(cols, a=cols["a"].copy())
    bumped["a"][7] = cols["a"][7] + 0.01 if cols["a"][7] < cols["a"].max() else cols["a"][7]
    assert combine(bumped, normalize="minmax")[7] >= base[7] - 1e-12


def test_nan_policy():
    cols = {"a": [1.0, np.nan, 3.0], "b": [np.nan, np.nan, 1.0]}
    with pytest.raises(InputError, match="row 1: score 'b' is missing"):
        combine(cols, path="x.jsonl")
    out = combine(cols, normalize="none", nan="skip")
    assert out[0] == 1.0 and np.isnan(out[1]) and out[2] == 2.0
    with pytest.raises(UsageError, match="unknown aggregate"):
        combine(cols, aggregate="median")
    with pytest.raises(UsageError, match="weight per column"):
        combine(cols, aggregate="weighted", weights={"c": 1}, nan="skip")
