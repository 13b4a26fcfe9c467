"""Ensemble predictive diversity: both decompositions are exact, sklearn agrees on the losses, bad input is one line."""
import numpy as np
import pytest
from sklearn.metrics import accuracy_score, brier_score_loss, log_loss

from quadiv.errors import UsageError
from quadiv.measure import ensemble_diversity


def members(m: int = 5, n: int = 200, c: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.dirichlet(np.ones(c), size=(m, n)), rng.integers(0, c, size=n)


def test_both_decompositions_hold_exactly_on_dirichlet_members():
    probs, y = members()
    out = ensemble_diversity(probs, y)
    assert out["ensemble_log_loss"] == pytest.approx(out["mean_member_log_loss"] - out["jensen_gap"], abs=1e-12)
    assert out["ensemble_brier"] == pytest.approx(out["mean_member_brier"] - out["brier_variance"], abs=1e-12)
    assert out["jensen_gap"] > 0 and out["brier_variance"] > 0 and 0 < out["disagreement"] <= 1


def test_losses_and_accuracies_match_scikit_learn():
    probs, y = members(m=3, n=120, c=4, seed=1)
    out = ensemble_diversity(probs, y)
    classes = list(range(4))
    mean = probs.mean(axis=0)
    assert out["ensemble_log_loss"] == pytest.approx(log_loss(y, mean, labels=classes), rel=1e-12)
    assert out["ensemble_brier"] == pytest.approx(
        brier_score_loss(y, mean, labels=classes, scale_by_half=False), rel=1e-12)
    assert out["ensemble_accuracy"] == accuracy_score(y, mean.argmax(axis=1))
    for member, p in zip(out["members"], probs):
        assert member["log_loss"] == pytest.approx(log_loss(y, p, labels=classes), rel=1e-12)
        assert member["accuracy"] == accuracy_score(y, p.argmax(axis=1))
    disagreement = np.mean([(p.argmax(axis=1) != mean.argmax(axis=1)).mean() for p in probs])
    assert out["disagreement"] == pytest.approx(disagreement)


def test_identical_members_have_no_diversity():
    probs, y = members(m=1)
    out = ensemble_diversity(np.repeat(probs, 4, axis=0), y)
    assert out["jensen_gap"] == pytest.approx(0.0, abs=1e-15)
    assert out["brier_variance"] == 0.0 and out["disagreement"] == 0.0
    assert out["ensemble_log_loss"] == pytest.approx(out["mean_member_log_loss"], abs=1e-15)


def test_a_list_of_members_is_the_same_as_the_array():
    probs, y = members(m=3)
    assert ensemble_diversity(list(probs), y.tolist()) == ensemble_diversity(probs, y)


@pytest.mark.parametrize("probs, labels, message", [
    ([np.full((3, 2), 0.5), np.full((4, 2), 0.5)], [0, 1, 0], r"same \(items, classes\) shape; got \[\(3, 2\), \(4, 2\)\]"),
    (np.full((2, 3, 2), 0.6), [0, 1, 0], r"member 0, item 0 sum to 1\.2, not 1"),
    (np.full((2, 3, 2), 0.5), [0, 2, 0], r"`labels` must lie in \[0, 1\]; item 1 has 2"),
    (np.full((2, 3, 2), 0.5), [0, 1], r"`labels` must be 3 integer classes"),
    (np.full((2, 3), 0.5), [0, 1], r"\(members, items, classes\) array; got shape \(2, 3\)"),
    ([], [], r"`probs` has no members"),
])
def test_bad_input_is_one_clear_line(probs, labels, message):
    with pytest.raises(UsageError, match=message) as err:
        ensemble_diversity(probs, labels)
    assert "\n" not in str(err.value)


def test_sums_within_the_tolerance_are_accepted():
    probs = np.full((2, 3, 2), 0.5)
    probs[0, 0, 0] += 5e-7
    assert ensemble_diversity(probs, [0, 1, 0])["disagreement"] == 0.0
