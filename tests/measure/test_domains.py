"""Domain coverage, evenness and within-domain Vendi: closed forms, and pools spread over 1, 2, 5, 10 clusters."""
import math

import numpy as np
import pytest

from quadiv.errors import UsageError
from quadiv.measure import (
    Sample,
    compute,
    domain_coverage,
    domain_evenness,
    measure,
    within_domain_vendi,
)

DOMAIN_METRICS = ["domain_coverage", "domain_evenness", "within_domain_vendi"]
N_CLUSTERS, NOISE_DIMS = 10, 4


def clusters(per_cluster: int, chosen: range, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``per_cluster`` points around each of the ``chosen`` centres; every cluster spreads in its own dimensions,
    so clusters are orthogonal to each other and alike inside."""
    rng = np.random.default_rng(seed)
    d = N_CLUSTERS * (1 + NOISE_DIMS)
    rows, labels = [], []
    for c in chosen:
        block = np.zeros((per_cluster, d))
        block[:, c] = 1.0
        block[:, N_CLUSTERS + NOISE_DIMS * c: N_CLUSTERS + NOISE_DIMS * (c + 1)] = \
            0.6 * rng.standard_normal((per_cluster, NOISE_DIMS))
        rows.append(block)
        labels += [f"domain{c}"] * per_cluster
    X = np.vstack(rows)
    return X / np.linalg.norm(X, axis=1, keepdims=True), np.array(labels)


def test_closed_forms():
    labels = ["a", "a", "b", "c"]  # shares 1/2, 1/4, 1/4: exp(H) = 2 ** 1.5
    assert domain_coverage(labels, taxonomy=["a", "b", "c", "d"]) == 0.75
    assert domain_coverage(labels) == 1.0
    assert domain_coverage(labels, min_count=2) == pytest.approx(1 / 3)
    assert domain_evenness(labels, taxonomy=["a", "b", "c", "d"]) == pytest.approx(2 ** 1.5 / 4, rel=1e-12)
    assert domain_evenness(["x"] * 5) == 1.0
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 0.0]])  # a: two orthogonal rows (Vendi 2), b: one row twice
    assert within_domain_vendi(X, ["a", "a", "b", "b"]) == pytest.approx(0.5 * 2 + 0.5 * 1)


def test_pools_over_more_clusters_cover_more_and_more_evenly_at_the_same_inner_diversity():
    size, taxonomy = 500, [f"domain{c}" for c in range(N_CLUSTERS)]
    rows = []
    for c in (1, 2, 5, 10):
        X, labels = clusters(size // c, range(c))
        rows.append(compute(DOMAIN_METRICS, Sample(X, groups=labels, taxonomy=taxonomy)))
        assert rows[-1]["domain_coverage"] == c / N_CLUSTERS
        assert rows[-1]["domain_evenness"] == pytest.approx(c / N_CLUSTERS)
    for name in ("domain_coverage", "domain_evenness"):
        values = [r[name] for r in rows]
        assert values == sorted(values) and len(set(values)) == 4, name
    inner = [r["within_domain_vendi"] for r in rows]
    assert max(inner) / min(inner) < 1.1, inner


def test_without_groups_the_domains_are_the_pools_clusters_and_subsets_keep_them():
    X, labels = clusters(100, range(N_CLUSTERS))
    whole = Sample(X, seed=0).prepare(DOMAIN_METRICS)
    assert compute(DOMAIN_METRICS, whole)["domain_coverage"] == 1.0
    codes, k = whole.domains
    assert k == round(math.sqrt(len(X) / 2))
    coverage = [compute(["domain_coverage"], whole.subset(np.flatnonzero(np.isin(labels, labels[::100][:c]))))
                ["domain_coverage"] for c in (1, 2, 5, 10)]
    assert coverage == sorted(coverage) and coverage[0] < 0.25 and coverage[-1] == 1.0
    # a well-separated cluster never shares a k-means cluster with another one
    assert all(len(set(labels[codes == d])) == 1 for d in range(k))


def test_measure_reports_them_overall_and_per_group_against_the_taxonomy():
    X, labels = clusters(20, range(3))
    out = measure(X, groups=labels, metrics=DOMAIN_METRICS, taxonomy=[f"domain{c}" for c in range(6)])
    assert out["metrics"]["domain_coverage"] == 0.5
    assert out["metrics"]["domain_evenness"] == pytest.approx(0.5)
    assert {g: v["domain_coverage"] for g, v in out["groups"].items()} == {f"domain{c}": 1 / 6 for c in range(3)}


def test_a_group_outside_the_taxonomy_is_named():
    with pytest.raises(UsageError, match=r"domain 'z' is not in the `taxonomy` \(2 domains\)"):
        domain_coverage(["a", "z"], taxonomy=["a", "b"])
    with pytest.raises(UsageError, match=r"metric 'domain_coverage' needs group labels \(`group_field`\) or embeddings"):
        compute(["domain_coverage"], Sample(texts=["a b"]))


def test_bootstrap_intervals_use_the_same_domains_as_measure():
    from quadiv.measure import add_intervals

    X, labels = clusters(20, range(3))
    taxonomy = [f"domain{c}" for c in range(6)]
    result = measure(X, groups=labels, metrics=["domain_coverage"], taxonomy=taxonomy)
    ci = add_intervals(result, X, None, None, labels, n_resamples=20, metrics=["domain_coverage"],
                       taxonomy=taxonomy)["ci"]
    assert ci["all"]["domain_coverage"] == [0.5, 0.5]
    assert ci["groups"]["domain1"]["domain_coverage"] == [1 / 6, 1 / 6]
