"""Quality-quantity planning (Goyal et al. 2024) against closed forms of the repetition law."""
import numpy as np
import pytest

from quadiv.errors import UsageError
from quadiv.front import plan_quality_quantity
from quadiv.front._plan import repeated_error


def test_repeated_error_closed_form_one_bucket():
    # pool of T = 100 tokens seen 2.5 times: passes of 100, 100 and 50 tokens
    b, tau, s = -0.2, 2.0, 10.0
    y = repeated_error(np.array([1.0]), np.array([b]), np.array([tau]), 100.0, 250.0, s)
    d = 0.5 ** (1 / tau)
    expected = (100 / s) ** b * (200 / 100) ** (b * d) * (250 / 200) ** (b * d * d)
    assert y == pytest.approx(expected, rel=1e-12)


def test_repeated_error_mixture_averages_decayed_utilities():
    shares, b, tau = np.array([0.25, 0.75]), np.array([-0.3, -0.1]), np.array([1.0, 4.0])
    y = repeated_error(shares, b, tau, 40.0, 80.0, 5.0)
    b0, b1 = shares @ b, shares @ (b * 0.5 ** (1 / tau))
    assert y == pytest.approx((40 / 5) ** b0 * 2 ** b1, rel=1e-12)


def test_small_budget_keeps_only_the_best_bucket():
    """Without repetition, keeping less means a higher mean utility: the top decile wins."""
    q = np.arange(1000, dtype=float)
    plan = plan_quality_quantity(q, token_budget=100, scale_tokens=1.0)
    assert plan["best"]["fraction"] == pytest.approx(0.1)
    assert plan["best"]["quality_threshold"] == 900.0
    assert plan["thresholds"]["epochs"][0] == pytest.approx(1.0)
    b = np.array(plan["buckets"]["utility"])
    expected = [100 ** np.mean(b[:m]) for m in range(1, 11)]
    np.testing.assert_allclose(plan["thresholds"]["error"], expected, rtol=1e-12)


def test_large_budget_with_fast_decay_keeps_more_data():
    q = np.random.default_rng(0).random(5000)
    small = plan_quality_quantity(q, token_budget=500, half_life=1.0, scale_tokens=100)
    large = plan_quality_quantity(q, token_budget=500_000, half_life=1.0, scale_tokens=100)
    assert small["best"]["fraction"] < large["best"]["fraction"]
    assert large["best"]["epochs"] < large["thresholds"]["epochs"][0]


def test_tokens_per_item_and_given_utilities():
    q = np.array([5.0, 4.0, 3.0, 2.0])
    plan = plan_quality_quantity(q, token_budget=10, tokens_per_item=np.array([1, 2, 3, 4]), n_buckets=2,
                                 utility=[-0.2, -0.1], half_life=[2.0, 3.0], scale_tokens=1.0)
    assert plan["buckets"]["tokens"] == [3.0, 7.0]
    assert plan["thresholds"]["kept_tokens"] == [3.0, 10.0]
    keep_all = (10 / 1.0) ** (0.3 * -0.2 + 0.7 * -0.1)
    assert plan["thresholds"]["error"][1] == pytest.approx(keep_all)
    with pytest.raises(UsageError, match="utility"):
        plan_quality_quantity(q, 10, n_buckets=2, utility=[0.2, -0.1])
    with pytest.raises(UsageError, match="at least"):
        plan_quality_quantity(q, 10, n_buckets=10)
    with pytest.raises(UsageError, match="exceed scale_tokens"):
        plan_quality_quantity(q, 10, n_buckets=2, scale_tokens=20)
