"""selection_metrics: the same metrics of a pool and of a selection from it."""
import numpy as np
import pytest

from quadiv.measure import measure, selection_metrics


def test_before_is_the_pool_and_after_the_chosen_rows():
    rng = np.random.default_rng(0)
    X, quality = rng.normal(size=(20, 5)), rng.random(20)
    texts = [f"text number {i} of the pool" for i in range(20)]
    chosen = np.array([3, 1, 7, 12])
    out = selection_metrics(X, chosen, texts, quality, seed=0)
    names = ["vendi", "mean_pairwise_distance", "distinct_2", "quality_mean", "qvendi"]
    assert list(out["before"]) == names and list(out["after"]) == names
    assert out["before"] == measure(X, texts, quality, metrics=names)["metrics"]
    assert out["after"]["quality_mean"] == quality[chosen].mean()


def test_the_default_metrics_follow_what_is_given():
    X = np.eye(6)
    out = selection_metrics(X, [0, 2, 4])
    assert list(out["before"]) == ["vendi", "mean_pairwise_distance"]
    assert out["after"]["vendi"] == pytest.approx(3.0)  # three orthogonal rows
    assert list(selection_metrics(X, [0, 1], metrics=["vendi"])["after"]) == ["vendi"]
