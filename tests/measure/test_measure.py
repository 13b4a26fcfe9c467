"""`measure`: the named metric set equals the metric functions, overall and per group."""
import math

import numpy as np
import pytest

from quadiv.errors import UsageError
from quadiv.measure import (
    default_metrics,
    distinct_n,
    group_quality,
    harmony,
    mean_pairwise_distance,
    measure,
    parse_metrics,
    self_bleu,
    vendi,
)


@pytest.fixture
def items():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 12)).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    words = ["alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta"]
    texts = [" ".join(rng.choice(words, size=rng.integers(3, 12))) for _ in range(60)]
    quality = rng.uniform(0, 1, size=60)
    groups = np.array(["a", "b", "c"])[rng.integers(0, 3, size=60)]
    return X, texts, quality, groups


def test_overall_metrics_equal_the_functions(items):
    X, texts, quality, _ = items
    out = measure(X, texts, quality)["metrics"]
    assert out["vendi"] == pytest.approx(vendi(X, 1.0), rel=1e-9)
    assert out["vendi_q2"] == pytest.approx(vendi(X, 2.0), rel=1e-9)
    assert out["vendi_qinf"] == pytest.approx(vendi(X, math.inf), rel=1e-9)
    assert out["qvendi"] == pytest.approx(quality.mean() * vendi(X), rel=1e-9)
    assert out["mean_pairwise_distance"] == pytest.approx(mean_pairwise_distance(X), rel=1e-6)
    assert out["distinct_2"] == pytest.approx(distinct_n(texts, 2))
    assert out["self_bleu"] == pytest.approx(self_bleu(texts), abs=1e-12)
    assert out["quality_mean"] == pytest.approx(quality.mean())
    assert set(out) == set(default_metrics(embeddings=True, texts=True, quality=True))


def test_group_metrics_equal_the_functions_on_each_group(items):
    X, texts, quality, groups = items
    result = measure(X, texts, quality, groups, metrics=["vendi", "self_bleu", "quality_mean"])
    assert sorted(result["groups"]) == ["a", "b", "c"]
    for label, part in result["groups"].items():
        idx = np.flatnonzero(groups == label)
        assert part["n"] == idx.size
        assert part["vendi"] == pytest.approx(vendi(X[idx]), rel=1e-9)
        assert part["self_bleu"] == pytest.approx(self_bleu([texts[i] for i in idx]), abs=1e-12)
        assert part["quality_mean"] == pytest.approx(quality[idx].mean())
    spread = group_quality(quality, groups)
    assert result["metrics"]["worst_group_quality"] == pytest.approx(spread["worst_group_mean"])
    assert result["worst_group"] == spread["worst_group"]
    means = [quality[groups == g].mean() for g in ("a", "b", "c")]
    assert result["metrics"]["harmony_quality"] == pytest.approx(harmony(means))


def test_embeddings_only_and_texts_only(items):
    X, texts, _, _ = items
    assert "distinct_2" not in measure(X)["metrics"]
    assert "vendi" not in measure(texts=texts)["metrics"]
    with pytest.raises(UsageError, match="needs embeddings"):
        measure(texts=texts, metrics=["vendi"])


def test_per_input_diversity_is_reported(items):
    X, texts, _, _ = items
    inputs = np.repeat(np.arange(20), 3)
    out = measure(X, texts, input_ids=inputs, metrics=["vendi"])["metrics"]
    first = vendi(X[:3])
    assert 1.0 <= out["per_input_vendi"] <= 3.0
    assert out["per_input_vendi"] == pytest.approx(
        np.mean([vendi(X[3 * i:3 * i + 3]) for i in range(20)]), rel=1e-9)
    assert first > 0 and out["across_input_vendi"] > out["per_input_vendi"]


def test_reference_metrics(items):
    X, _, _, _ = items
    out = measure(X, reference=X, metrics=["vendi"])["metrics"]
    assert out["precision"] == out["recall"] == out["coverage"] == 1.0


def test_metric_names_are_checked():
    assert parse_metrics("vendi, vendi_q3,distinct_4") == ["vendi", "vendi_q3", "distinct_4"]
    for bad in ("vendi_q0", "vendi_q-1", "distinct_9", "nonsense"):
        with pytest.raises(UsageError, match="unknown metric"):
            parse_metrics(bad)


def test_mismatched_sizes(items):
    X, texts, _, _ = items
    with pytest.raises(UsageError, match="same items"):
        measure(X, texts[:10])


def test_zero_rows_are_one_point_like_the_selectors_see_them():
    X = np.zeros((4, 3), dtype=np.float32)
    X[0, 0] = X[1, 1] = 2.0  # rows 2 and 3: texts the embedder could not embed
    out = measure(X, metrics=["vendi", "mean_pairwise_distance"])["metrics"]
    # K = [[1,0,0,0],[0,1,0,0],[0,0,1,1],[0,0,1,1]]: eig(K/4) = 1/4, 1/4, 1/2
    assert out["vendi"] == pytest.approx(math.exp(-(2 * 0.25 * math.log(0.25) + 0.5 * math.log(0.5))))
    assert out["mean_pairwise_distance"] == pytest.approx(10 / 12)  # the two empty rows coincide


def test_zero_rows_keep_reference_and_evaluated_sets_in_one_geometry():
    rng = np.random.default_rng(0)
    real, fake = rng.standard_normal((30, 5)), rng.standard_normal((25, 5))
    fake[:3] = 0.0
    out = measure(fake, reference=real, metrics=["vendi"], k=3)["metrics"]
    unit = lambda a: a / np.linalg.norm(a, axis=1, keepdims=True)
    # the empty point is orthogonal to every real row and covers none of them; reference rows
    # are then compared on the unit sphere of the same d + 1 dimensions
    from quadiv.measure import prdc

    padded = np.hstack([fake, np.zeros((25, 1))])
    padded[:3, 5] = 1.0
    padded[3:, :5] = unit(fake[3:])
    expected = prdc(np.hstack([unit(real), np.zeros((30, 1))]).astype(np.float32), padded.astype(np.float32), 3)
    assert {key: out[key] for key in expected} == pytest.approx(expected)


def test_per_input_diversity_within_each_group_closed_form():
    E = np.eye(8, dtype=np.float32)
    #        model m1: the same answer twice    m2: two orthogonal answers    m3: one answer per prompt
    rows = [("m1", "p1", 0, "a b c"), ("m1", "p1", 0, "a b c"), ("m1", "p2", 1, "d e f"), ("m1", "p2", 1, "d e f"),
            ("m2", "p1", 2, "g h i"), ("m2", "p1", 3, "j k l"), ("m2", "p2", 4, "m n o"), ("m2", "p2", 5, "p q r"),
            ("m3", "p1", 6, "s t u"), ("m3", "p2", 7, "v w x")]
    groups = np.array([r[0] for r in rows])
    inputs = np.array([r[1] for r in rows])
    X = E[[r[2] for r in rows]]
    texts = [r[3] for r in rows]
    out = measure(X, texts, groups=groups, input_ids=inputs, metrics=["vendi"])
    m1, m2, m3 = (out["groups"][g] for g in ("m1", "m2", "m3"))
    assert m1["per_input_vendi"] == pytest.approx(1.0) and m2["per_input_vendi"] == pytest.approx(2.0)
    assert m1["per_input_distinct_2"] == pytest.approx(0.5) and m2["per_input_distinct_2"] == pytest.approx(1.0)
    assert m1["across_input_vendi"] == pytest.approx(2.0) and m3["across_input_vendi"] == pytest.approx(2.0)
    assert math.isnan(m3["per_input_vendi"])  # one output per prompt: undefined within m3
    # overall: p1 has e0, e0, e2, e3, e6 -> eig(K/5) = 2/5, 1/5, 1/5, 1/5
    p1 = math.exp(-(0.4 * math.log(0.4) + 3 * 0.2 * math.log(0.2)))
    assert out["metrics"]["per_input_vendi"] == pytest.approx(p1)
