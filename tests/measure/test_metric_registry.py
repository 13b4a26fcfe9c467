"""The metric registry: every metric computes on a sample with all inputs, families resolve, unknowns list all."""
import math

import numpy as np
import pytest

from quadiv.errors import UnknownNameError, UsageError
from quadiv.measure import FAMILIES, METRICS, Sample, compute, get_metric, parse_metrics, vendi


@pytest.fixture(scope="module")
def sample() -> Sample:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 8))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    words = ["the", "cat", "dog", "sat", "ran", "on", "a", "mat", "hill", "fast"]
    texts = [" ".join(rng.choice(words, 6)) for _ in range(30)]
    return Sample(X, texts, rng.random(30), seed=0)


def test_every_registered_metric_computes_a_number(sample):
    names = [n for n, m in METRICS.items() if m.needs != "derived"]
    out = compute(names, sample.prepare(names))
    assert set(out) == set(names) and all(isinstance(v, float) and not math.isnan(v) for v in out.values())
    assert out["vendi"] == pytest.approx(vendi(sample.X))


def test_families_build_any_member():
    assert get_metric("vendi_q0.7").needs == "X" and get_metric("distinct_3").shared == "tokens"
    for bad in ("vendi_q0", "vendi_qx", "distinct_9", "ead_0"):
        with pytest.raises(UnknownNameError, match=f"unknown metric '{bad}'; known: .*vendi_q<order>"):
            parse_metrics(bad)
    assert set(FAMILIES) == {"vendi_q<order>", "distinct_<n>", "ead_<n>"}


def test_a_metric_whose_input_is_missing_names_it(sample):
    with pytest.raises(UsageError, match=r"needs texts \(`field`\)"):
        compute(["distinct_2"], Sample(sample.X, None, None))
