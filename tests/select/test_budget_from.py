"""budget_from: a budget given as a count or as a share of the pool."""
import pytest

from quadiv.errors import UsageError
from quadiv.select import budget_from


def test_a_count_or_a_rounded_share_of_the_pool():
    assert budget_from(3, n=10) == 3
    assert budget_from(fraction=0.25, n=10) == 2
    assert budget_from(fraction=0.01, n=10) == 1  # never zero rows
    assert budget_from(fraction=1.0, n=7) == 7


@pytest.mark.parametrize(("budget", "fraction", "message"), [
    (None, None, "exactly one"), (2, 0.5, "exactly one"), (None, 0.0, r"\(0, 1\]"), (None, 1.5, r"\(0, 1\]"),
    (0, None, "positive whole number"), (11, None, "larger than the pool"),
])
def test_wrong_budgets_are_usage_errors(budget, fraction, message):
    with pytest.raises(UsageError, match=message):
        budget_from(budget, fraction, n=10)
