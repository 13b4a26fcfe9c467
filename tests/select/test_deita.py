"""DEITA's selection against a plain reimplementation of its rule, and its gate at the ends of the knob."""
from __future__ import annotations

import numpy as np
import pytest

from quadiv.select import DEITASelector, get_selector


def brute_force(X, quality, budget, tau):
    """DEITA Algorithm 1 as written: visit by score, keep if every similarity to the kept set is below tau."""
    X = X / np.linalg.norm(X, axis=1, keepdims=True)
    kept = []
    for i in np.argsort(-quality, kind="stable"):
        if all(X[i] @ X[j] < tau for j in kept):
            kept.append(int(i))
        if len(kept) == budget:
            break
    return kept


@pytest.mark.parametrize("tradeoff", [0.2, 0.5, 0.8])
def test_matches_the_rule_as_written(tradeoff):
    rng = np.random.default_rng(0)
    base = rng.standard_normal((1500, 64))
    X = np.vstack([base, base + 0.1 * rng.standard_normal((1500, 64))])  # each row has a near-copy; > one chunk
    quality = rng.random(3000)
    selector = DEITASelector()
    tau = selector.gate(tradeoff)
    expected = brute_force(X, quality, 40, tau)
    assert len(expected) == 40 and len(brute_force(X, quality, 3000, tau)) < 3000  # the gate bites
    out = selector.select(X, 40, quality, tradeoff)
    assert out.indices.tolist() == expected and out.params["filled"] == 0
    assert out.objective == pytest.approx(quality[expected].mean())


def test_hand_case_and_filling_when_the_gate_runs_out():
    X = np.array([[1.0, 0.0], [0.99, 0.141], [0.0, 1.0], [0.7071, 0.7071]])
    quality = np.array([0.9, 0.8, 0.5, 0.4])
    out = get_selector("deita").select(X, 2, quality, 0.5)  # tau 0.9: row 1 is a near-copy of row 0
    assert out.indices.tolist() == [0, 2]
    filled = get_selector("deita").select(X, 4, quality, 0.5)
    assert filled.indices.tolist()[:3] == [0, 2, 3] and filled.indices[3] == 1 and filled.params["filled"] == 1


def test_the_gate_opens_at_tradeoff_one_and_shuts_at_zero():
    selector = DEITASelector(threshold=0.9)
    assert selector.gate(0.5) == 0.9 and selector.gate(1.0) == 1.0 and selector.gate(0.0) == 0.0
    rng = np.random.default_rng(1)
    X, quality = rng.standard_normal((50, 4)), rng.random(50)
    top = selector.select(X, 10, quality, 1.0)
    assert top.indices.tolist() == np.argsort(-quality, kind="stable")[:10].tolist()
