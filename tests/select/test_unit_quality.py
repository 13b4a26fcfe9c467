"""The shared quality scaling every tradeoff method uses."""
import numpy as np
import pytest

from quadiv.select import select, unit_quality
from quadiv.select._base import min_max


def test_unit_quality_is_the_mid_rank_percentile_by_hand():
    # ranks with ties averaged: 3 -> 1, 5 -> 2.5 (twice), 40 -> 4; scaled by (r - 1) / 3
    np.testing.assert_allclose(unit_quality(np.array([5.0, 3.0, 40.0, 5.0]), 4), [0.5, 0.0, 1.0, 0.5])
    np.testing.assert_array_equal(unit_quality(np.array([0.0, 1.0, 1.0, 0.0, 1.0]), 5), [0, 1, 1, 0, 1])
    np.testing.assert_array_equal(unit_quality(np.full(3, 7.0), 3), np.ones(3))
    np.testing.assert_array_equal(unit_quality(None, 4), np.ones(4))


def test_unit_quality_ignores_monotone_transforms():
    q = np.random.default_rng(0).standard_normal(300)
    base = unit_quality(q, 300)
    for transformed in (np.exp(3 * q), 10 * q - 4, np.arctan(q), q ** 3):
        np.testing.assert_allclose(unit_quality(transformed, 300), base, atol=1e-12)


@pytest.mark.parametrize("method", ["facility-location", "dpp", "mmr", "k-center", "qvendi", "cluster"])
def test_selections_ignore_monotone_transforms_of_quality(method):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((200, 8)).astype(np.float32)
    q = rng.random(200)
    a = select(X, 20, method=method, quality=q, tradeoff=0.5, seed=3).indices
    b = select(X, 20, method=method, quality=np.log(q) * 5 + 100, tradeoff=0.5, seed=3).indices
    np.testing.assert_array_equal(a, b)


def test_min_max():
    np.testing.assert_allclose(min_max(np.array([2.0, 4.0, 3.0])), [0.0, 1.0, 0.5])
    np.testing.assert_array_equal(min_max(np.array([1.0, 1.0])), [1.0, 1.0])
