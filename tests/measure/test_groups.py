"""Quality statistics, group quality (worst group, p20, Gini) and benchmark harmony."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from quadiv.errors import UsageError
from quadiv.measure import gini, group_quality, harmony, harmony_across_models, quality_stats


def test_quality_stats_closed_form() -> None:
    out = quality_stats(np.arange(11))
    assert out == pytest.approx({
        "quality_mean": 5.0, "quality_std": math.sqrt(10.0), "quality_min": 0.0, "quality_p10": 1.0,
        "quality_p25": 2.5, "quality_median": 5.0, "quality_p75": 7.5, "quality_p90": 9.0,
        "quality_max": 10.0,
    })


def test_quality_stats_nan_names_the_index() -> None:
    with pytest.raises(UsageError, match=r"quality\[2\]"):
        quality_stats([0.1, 0.2, float("nan")])


def test_group_quality_worked_example() -> None:
    out = group_quality([1, 2, 3, 4, 10], ["a", "a", "b", "b", "c"])
    assert out["group_means"] == {"a": 1.5, "b": 3.5, "c": 10.0}
    assert out["group_sizes"] == {"a": 2, "b": 2, "c": 1}
    assert out["worst_group"] == "a" and out["worst_group_mean"] == 1.5
    assert out["group_p20"] == pytest.approx(1.5 + 0.4 * (3.5 - 1.5))
    # ordered pairs: 2 * (|1.5-3.5| + |1.5-10| + |3.5-10|) = 34; / (2 * 3^2 * 5) = 34 / 90
    assert out["group_gini"] == pytest.approx(34 / 90)
    assert out["group_total"] == pytest.approx(15.0)


def test_group_quality_validation() -> None:
    with pytest.raises(UsageError, match=r"groups\[1\]"):
        group_quality([1.0, 2.0], ["a", None])
    with pytest.raises(UsageError, match="one label per item"):
        group_quality([1.0, 2.0], ["a"])
    with pytest.raises(UsageError, match=r"quality\[0\]"):
        group_quality([float("inf"), 2.0], ["a", "b"])


@pytest.mark.parametrize("g", [2, 5, 17])
def test_gini_closed_forms(g: int) -> None:
    assert gini(np.full(g, 0.7)) == pytest.approx(0.0, abs=1e-15)
    one = np.zeros(g)
    one[g // 2] = 3.0
    assert gini(one) == pytest.approx((g - 1) / g)


def test_gini_matches_mean_absolute_difference_formula() -> None:
    x = np.random.default_rng(0).random(30)
    brute = sum(abs(a - b) for a, b in itertools.product(x, x)) / (2 * len(x) ** 2 * x.mean())
    assert gini(x) == pytest.approx(brute)


def test_gini_rejects_negative_values_and_handles_zeros() -> None:
    with pytest.raises(UsageError, match="non-negative"):
        gini([0.5, -0.1])
    assert gini([0.0, 0.0, 0.0]) == 0.0


def test_harmony_extremes() -> None:
    assert harmony([0.8, 0.8, 0.8, 0.8]) == pytest.approx(1.0)  # equal performance: the maximum
    assert harmony([0.0, 0.9, 0.0, 0.0]) == 0.0  # all performance in one subdomain: the minimum


def test_harmony_closed_form_and_mapping_input() -> None:
    # shares (0.5, 0.25, 0.25): H = 1.5 log 2, normalised by log 3
    assert harmony({"bio": 0.6, "geo": 0.3, "phys": 0.3}) == pytest.approx(1.5 * math.log(2) / math.log(3))
    assert 0.0 < harmony([0.9, 0.1]) < harmony([0.6, 0.4]) < 1.0


def test_harmony_validation() -> None:
    with pytest.raises(UsageError, match=r"scores\['geo'\]"):
        harmony({"bio": 0.5, "geo": float("nan")})
    with pytest.raises(UsageError, match="at least 2"):
        harmony([0.5])
    with pytest.raises(UsageError, match="non-negative"):
        harmony([0.5, -0.2])
    with pytest.raises(UsageError, match="every subdomain score is 0"):
        harmony([0.0, 0.0])


def test_harmony_across_models() -> None:
    out = harmony_across_models({"m1": {"a": 1.0, "b": 1.0}, "m2": {"b": 0.0, "a": 1.0}})
    assert out == pytest.approx({"harmony_mean": 0.5, "harmony_var": 0.25})
    assert harmony_across_models(np.array([[1.0, 1.0], [1.0, 0.0]])) == pytest.approx(out)
    with pytest.raises(UsageError, match="same subdomains"):
        harmony_across_models({"m1": {"a": 1.0, "b": 1.0}, "m2": {"a": 1.0}})


def test_group_quality_on_alpaca_subsets_matches_direct_means(alpaca_rows) -> None:
    rows = alpaca_rows
    quality = [r["quality"] for r in rows]
    subsets = [r["subset"] for r in rows]
    out = group_quality(quality, subsets)
    for name in set(subsets):
        direct = [q for q, s in zip(quality, subsets) if s == name]
        assert out["group_means"][name] == pytest.approx(sum(direct) / len(direct))
    assert out["worst_group_mean"] == min(out["group_means"].values())
    assert 0.0 < harmony(out["group_means"]) <= 1.0


def test_group_counts_before_and_after() -> None:
    from quadiv.measure import group_counts

    groups = np.array(["b", "a", "b", "c", "b", "a"])
    assert group_counts(groups, [4, 0, 1]) == {"a": {"before": 2, "after": 1}, "b": {"before": 3, "after": 2},
                                               "c": {"before": 1, "after": 0}}
    assert group_counts([1, 2, 2], np.array([], dtype=np.int64)) == {"1": {"before": 1, "after": 0},
                                                                      "2": {"before": 2, "after": 0}}
    with pytest.raises(UsageError, match=r"groups\[1\]"):
        group_counts(["a", None], [0])
