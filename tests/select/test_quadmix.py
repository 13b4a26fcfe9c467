"""Tests for QuaDMix: merged quality, domain rank, the sampling function and exact-size sampling."""
import math

import numpy as np
import pytest

from quadiv.errors import UsageError
from quadiv.select import select
from quadiv.select._quadmix import (
    inclusion_probabilities,
    log_sampling_value,
    merged_quality,
    quality_rank,
    systematic_sample,
)


def test_merged_quality_eq1():
    criteria = np.array([[0.0, 10.0], [1.0, 20.0], [2.0, 30.0]])
    alpha = np.array([[0.25, 0.75], [1.0, 0.0]])
    merged = merged_quality(criteria, np.array([0, 0, 1]), alpha)
    np.testing.assert_allclose(merged, [0.0, 0.5, 1.0])


def test_quality_rank_eq2_with_ties():
    ranks = quality_rank(np.array([3.0, 2.0, 1.0, 5.0, 5.0]), np.array([0, 0, 0, 1, 1]))
    np.testing.assert_allclose(ranks, [1 / 3, 2 / 3, 1.0, 1.0, 1.0])


def test_sampling_value_eq3_closed_form():
    r = np.array([0.0, 0.2, 0.5, 0.9])
    lam, omega, eta, eps = 10.0, 0.5, 2.0, 1e-3
    expected = [(2 / (1 + math.exp(-lam * (omega - x)))) ** eta + eps if x <= omega else eps for x in r]
    got = np.exp(log_sampling_value(r, np.full(4, lam), np.full(4, omega), np.full(4, eta), eps))
    np.testing.assert_allclose(got, expected)


def test_inclusion_probabilities_hand_cases():
    np.testing.assert_allclose(inclusion_probabilities(np.log([4.0, 1, 1, 1, 1]), 2), [1, 0.25, 0.25, 0.25, 0.25])
    np.testing.assert_allclose(inclusion_probabilities(np.log([10.0, 1, 1]), 2), [1, 0.5, 0.5])
    np.testing.assert_allclose(inclusion_probabilities(np.array([0.0, -1e6, -1e6]), 2), [1, 1, 0])


def test_systematic_sample_exact_size_and_inclusion_frequencies():
    pi = np.array([1.0, 0.7, 0.5, 0.5, 0.2, 0.1])
    hits = np.zeros(6)
    for seed in range(3000):
        picked = systematic_sample(pi, 3, np.random.default_rng(seed))
        assert len(picked) == 3 == len(np.unique(picked))
        hits[picked] += 1
    np.testing.assert_allclose(hits / 3000, pi, atol=0.03)


def domain_pool(seed=0):
    rng = np.random.default_rng(seed)
    n = 300
    X = rng.normal(size=(n, 6)).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    groups = rng.choice(["web", "code", "math"], size=n, p=[0.6, 0.3, 0.1])
    return X, rng.random(n), groups


@pytest.mark.parametrize("budget", [1, 29, 150, 300])
def test_exact_budget_distinct_and_seeded(budget):
    X, q, g = domain_pool()
    a = select(X, budget, method="quadmix", quality=q, groups=g, tradeoff=0.5, seed=3)
    b = select(X, budget, method="quadmix", quality=q, groups=g, tradeoff=0.5, seed=3)
    assert len(a.indices) == budget == len(np.unique(a.indices))
    np.testing.assert_array_equal(a.indices, b.indices)


def test_quality_rises_with_tradeoff():
    X, q, g = domain_pool()
    means = [q[select(X, 60, method="quadmix", quality=q, groups=g, tradeoff=t, seed=0).indices].mean()
             for t in (0.0, 0.5, 1.0)]
    assert means[0] < means[1] < means[2]


def test_t1_takes_top_ranks_and_omega_keeps_domain_fraction():
    X, q, g = domain_pool()
    sel = select(X, 25, method="quadmix", quality=q, groups=g, tradeoff=1.0, omega=0.1, seed=0)
    rank = quality_rank(q, np.unique(g, return_inverse=True)[1])
    assert np.all(rank[sel.indices] <= 0.1 + 1e-12)
    code_only = select(X, 20, method="quadmix", quality=q, groups=g, tradeoff=0.5,
                       omega={"web": 0.0, "code": 1.0, "math": 0.0}, epsilon=0.0, seed=0)
    assert set(g[code_only.indices]) == {"code"}


def test_extra_quality_columns_and_merge_weights():
    X, q, g = domain_pool()
    other = -q  # opposite criterion; all weight on it selects the lowest q
    sel = select(X, 20, method="quadmix", quality=q, groups=g, tradeoff=1.0,
                 extra_quality=other[:, None], merge_weights=[0.0, 1.0])
    assert q[sel.indices].mean() < np.median(q)


def test_clusters_as_domains_and_bad_parameters():
    X, q, _ = domain_pool()
    sel = select(X, 10, method="quadmix", quality=q, n_domains=3, seed=0)
    assert sel.params["n_domains"] == 3
    with pytest.raises(UsageError, match="no value for domain"):
        select(X, 10, method="quadmix", quality=q, groups=np.repeat(["a", "b"], 150), omega={"a": 0.5})
    with pytest.raises(UsageError):
        select(X, 10, method="quadmix", quality=q, merge_weights=[0.5, 0.5])
