"""Top-k mass and entropies (METHODS.md sec. 8 checks): closed forms, full logits vs top-k lists, vocab order."""
from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

from quadiv.errors import UsageError
from quadiv.measure import measure, topk_indicators


def position(logp: np.ndarray, n: int) -> dict[str, float]:
    """The n most likely tokens of one distribution as {token: log p}, as a backend returns them."""
    top = np.argsort(-logp, kind="stable")[:n]
    return {f"tok{v}": float(logp[v]) for v in top}


def test_uniform_over_v():
    V, k = 1000, 10
    out = topk_indicators([[position(np.full(V, -math.log(V)), 20)] * 3], k)
    assert out["topk_mass"] == pytest.approx(k / V)
    assert out["topk_entropy"] == pytest.approx(k / V * math.log(V))
    assert out["topk_entropy_renormalized"] == pytest.approx(math.log(k))


def test_one_hot():
    logp = np.full(50, -np.inf)
    logp[7] = 0.0
    out = topk_indicators([[position(logp, 10)]], 10)
    assert out == {"topk_mass": 1.0, "topk_entropy": 0.0, "topk_entropy_renormalized": 0.0}


def test_invariant_to_vocabulary_order_and_to_the_stored_format():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((6, 40)) * 2
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    perm = rng.permutation(40)
    a = topk_indicators([[position(row, 12) for row in logp]], 5)
    b = topk_indicators([[position(row[perm], 12) for row in logp]], 5)
    rows = [[[{"token": t, "logprob": v} for t, v in position(row, 12).items()] for row in logp]]
    assert a == pytest.approx(b) and a == pytest.approx(topk_indicators(rows, 5))


def test_mean_over_tokens_then_over_responses_and_errors():
    one = {"a": 0.0, "b": -math.inf}
    half = {"a": math.log(0.5), "b": math.log(0.5)}
    out = topk_indicators([[one], [half, half, half], []], 2)
    assert out["topk_entropy_renormalized"] == pytest.approx(math.log(2) / 2)  # not 3/4 log 2: per response first
    with pytest.raises(UsageError, match="fewer than `top_k` = 3"):
        topk_indicators([[one]], 3)
    with pytest.raises(UsageError, match="top_k"):
        topk_indicators([[one]], 0)
    assert math.isnan(topk_indicators([[]], 2)["topk_mass"])


def test_full_logits_of_a_tiny_lm_equal_its_topk_lists():
    torch = pytest.importorskip("torch")
    spec = importlib.util.spec_from_file_location("tiny_lm", Path(__file__).parents[1] / "generate" / "tiny_lm.py")
    tiny_lm = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tiny_lm)
    model, _ = tiny_lm.build_tiny_lm(0)
    ids = torch.randint(7, 90, (3, 12), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        logp = torch.log_softmax(model(input_ids=ids).logits.double(), -1)
    k = 10
    p = logp.exp()
    top = p.topk(k, dim=-1).values
    mass = top.sum(-1)
    q = top / mass[..., None]
    direct = {"topk_mass": mass.mean(-1).mean().item(),
              "topk_entropy": (-(top * top.log()).sum(-1)).mean(-1).mean().item(),
              "topk_entropy_renormalized": (-(q * q.log()).sum(-1)).mean(-1).mean().item()}
    lists = [[position(row.numpy(), 20) for row in seq] for seq in logp]
    assert topk_indicators(lists, k) == pytest.approx(direct, rel=1e-9)
    out = measure(texts=["x"] * 3, top_logprobs=lists, top_k=k, metrics=["distinct_1"], groups=np.array([0, 0, 1]))
    assert out["metrics"]["topk_mass"] == pytest.approx(direct["topk_mass"])
    assert out["groups"]["1"]["topk_mass"] == pytest.approx(float(mass[2].mean()))


def test_sampling_keeps_the_topk_lists_when_asked():
    pytest.importorskip("torch")
    spec = importlib.util.spec_from_file_location("tiny_lm", Path(__file__).parents[1] / "generate" / "tiny_lm.py")
    tiny_lm = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tiny_lm)
    from quadiv.generate import TransformersBackend, get_strategy

    backend = TransformersBackend(*tiny_lm.build_tiny_lm(0, eos_scale=0.2))
    rows = get_strategy("sampling", logprobs=5, max_tokens=6).run(backend, "the cat", 2, seed=0)
    assert all(len(r["top_logprobs"]) >= 1 and all(len(pos) <= 5 for pos in r["top_logprobs"]) for r in rows)
    assert "top_logprobs" not in get_strategy("sampling", max_tokens=3).run(backend, "the cat", 1, seed=0)[0]
    assert "top_logprobs" in get_strategy("sampling", logprobs=5).requires
    out = topk_indicators([r["top_logprobs"] for r in rows], 3)
    assert 0 < out["topk_mass"] <= 1
