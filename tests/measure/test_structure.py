"""cluster_entropy (faiss k-means) and per-input vs across-input diversity."""
from __future__ import annotations

import math

import numpy as np
import pytest

from quadiv.errors import UsageError
from quadiv.measure import across_input_diversity, cluster_entropy, per_input_diversity
from quadiv.measure._structure import default_k


def _blobs(sizes: list[int], d: int = 8, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = 50.0 * np.eye(len(sizes), d)
    return np.vstack([c + rng.standard_normal((s, d)) for c, s in zip(centres, sizes)]).astype(np.float32)


def test_cluster_entropy_is_deterministic_under_seed() -> None:
    x = np.random.default_rng(0).standard_normal((2000, 32)).astype(np.float32)
    assert cluster_entropy(x, 20, seed=3) == cluster_entropy(x, 20, seed=3)


@pytest.mark.parametrize("normalise", [False, True])
def test_cluster_entropy_bounds(normalise: bool) -> None:
    x = np.random.default_rng(1).standard_normal((1500, 16))
    if normalise:
        x /= np.linalg.norm(x, axis=1, keepdims=True)
    out = cluster_entropy(x, seed=0)
    assert out["k"] == default_k(1500) == 27
    assert 0.0 <= out["cluster_entropy"] <= math.log(out["k"]) + 1e-12
    assert out["cluster_entropy_norm"] == pytest.approx(out["cluster_entropy"] / math.log(out["k"]))


def test_cluster_entropy_of_equal_separated_blobs_is_log_k() -> None:
    out = cluster_entropy(_blobs([100, 100, 100, 100]), 4, seed=0)
    assert out["cluster_entropy"] == pytest.approx(math.log(4))
    assert out["cluster_entropy_norm"] == pytest.approx(1.0)


def test_cluster_entropy_of_unequal_separated_blobs_is_the_size_entropy() -> None:
    out = cluster_entropy(_blobs([200, 100, 100]), 3, seed=0)
    p = np.array([0.5, 0.25, 0.25])
    assert out["cluster_entropy"] == pytest.approx(float(-(p * np.log(p)).sum()))


def test_cluster_entropy_of_duplicated_point_is_zero() -> None:
    # All rows identical: every row lands in one cluster whatever the centroids.
    out = cluster_entropy(np.ones((50, 4)), 3)
    assert out["cluster_entropy"] == 0.0 and out["cluster_entropy_norm"] == 0.0


@pytest.mark.parametrize(("n", "k"), [(3, 2), (8, 2), (200, 10), (5000, 50), (10**6, 100)])
def test_default_k_rule(n: int, k: int) -> None:
    assert default_k(n) == k


def test_cluster_entropy_rejects_nan_and_bad_k() -> None:
    x = np.zeros((10, 2))
    x[4, 0] = np.nan
    with pytest.raises(UsageError, match=r"X\[4, 0\]"):
        cluster_entropy(x)
    with pytest.raises(UsageError, match="k must be"):
        cluster_entropy(np.ones((10, 2)), k=11)
    with pytest.raises(UsageError, match="k must be"):
        cluster_entropy(np.ones((10, 2)), k=1)


# Worked example. Rows 0-2 answer input "a", rows 3-4 input "b", row 5 input "c".
IDS = ["a", "a", "a", "b", "b", "c"]
LABELS = np.array(["x", "x", "x", "y", "z", "y"])


def distinct_fraction(idx: np.ndarray) -> float:
    """Number of distinct labels over set size."""
    return len(set(LABELS[idx])) / len(idx)


def test_per_input_worked_example() -> None:
    # a: {x, x, x} -> 1/3; b: {y, z} -> 2/2; c has one output (< min_outputs = 2) and is skipped.
    assert per_input_diversity(IDS, distinct_fraction) == pytest.approx((1 / 3 + 1) / 2)
    # min_outputs=1 keeps c: {y} -> 1/1.
    assert per_input_diversity(IDS, distinct_fraction, min_outputs=1) == pytest.approx((1 / 3 + 1 + 1) / 3)


def test_across_input_worked_example_in_data_order() -> None:
    # position 0: rows 0, 3, 5 -> {x, y, y} -> 2/3; position 1: rows 1, 4 -> {x, z} -> 1;
    # position 2: row 2 alone (< min_outputs = 2) is skipped.
    assert across_input_diversity(IDS, distinct_fraction, seed=None) == pytest.approx((2 / 3 + 1) / 2)


def test_metric_receives_the_index_sets() -> None:
    seen: list[list[int]] = []
    per_input_diversity(IDS, lambda idx: seen.append(idx.tolist()) or 0.0)
    assert seen == [[0, 1, 2], [3, 4]]
    seen.clear()
    across_input_diversity(IDS, lambda idx: seen.append(idx.tolist()) or 0.0, seed=None)
    assert seen == [[0, 3, 5], [1, 4]]


def test_across_input_seed_permutes_within_inputs_only() -> None:
    seen: list[list[int]] = []
    across_input_diversity(IDS, lambda idx: seen.append(idx.tolist()) or 0.0, seed=7)
    inputs = np.array(IDS)
    assert len(seen) == 2 and all(len(set(inputs[s])) == len(s) for s in seen)
    assert across_input_diversity(IDS, distinct_fraction, seed=7) == across_input_diversity(
        IDS, distinct_fraction, seed=7)


def test_one_output_per_input_makes_across_input_the_whole_set() -> None:
    ids = list(range(6))
    assert across_input_diversity(ids, distinct_fraction, seed=3) == distinct_fraction(np.arange(6))


def test_structure_validation() -> None:
    with pytest.raises(UsageError, match=r"input_ids\[1\]"):
        per_input_diversity(["a", None, "a"], distinct_fraction)
    with pytest.raises(UsageError, match=r"input_ids\[2\]"):
        across_input_diversity(np.array([1.0, 1.0, np.nan]), distinct_fraction)
    with pytest.raises(UsageError, match="no input has"):
        per_input_diversity(["a", "b", "c"], distinct_fraction)
    with pytest.raises(UsageError, match="finite float"):
        per_input_diversity(IDS, lambda idx: float("nan"))


def test_alpaca_outputs_vary_more_across_instructions_than_within_one(alpaca_rows) -> None:
    rows = alpaca_rows
    keep = sorted({r["instruction"] for r in rows})[:60]
    rows = [r for r in rows if r["instruction"] in set(keep)]
    tokens = [r["output"].lower().split() for r in rows]

    def distinct_1(idx: np.ndarray) -> float:
        words = [w for i in idx for w in tokens[i]]
        return len(set(words)) / max(1, len(words))

    ids = [r["instruction"] for r in rows]
    per = per_input_diversity(ids, distinct_1)
    across = across_input_diversity(ids, distinct_1, seed=0)
    # Ten models answering one instruction share its topic words; outputs to different instructions do not.
    assert 0 < per < across < 1
