"""Novelty filter: rejection against the avoid pool and earlier outputs, retry rounds, the exhausted fallback."""
from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from fake_backend import FakeBackend

from quadiv.errors import QuadivError, UsageError
from quadiv.generate import NoveltyFilter, Strategy, VerbalizedSampling, check_capabilities

# unit vectors at known angles: cos(a, b) = cos(angle difference)
ANGLES = {"pool": 0, "near-pool": 10, "a": 90, "a-twin": 95, "b": 180, "c": 270, "d": 135, "e": 225}


def embed(texts):
    rad = np.radians([ANGLES[t] for t in texts])
    return np.stack([np.cos(rad), np.sin(rad)], axis=1) * 3.0          # not unit: the filter normalises


class Scripted(Strategy):
    """Returns the next scripted batch (cut to n) and records (n, seed) of every call."""

    name = "scripted"
    requires = frozenset({"chat", "top_logprobs"})

    def __init__(self, batches: list[list[str]]):
        self._batches = list(batches)
        self.calls: list[tuple[int, int]] = []

    def run(self, backend, prompt: str, n: int, seed: int) -> list[dict[str, Any]]:
        self.calls.append((n, seed))
        return [{"text": t, "tag": "inner"} for t in self._batches.pop(0)[:n]]


def cos(a: str, b: str) -> float:
    return float(np.cos(np.radians(ANGLES[a] - ANGLES[b])))


def test_candidates_near_the_pool_or_earlier_outputs_are_rejected_and_retried():
    inner = Scripted([["near-pool", "a", "a-twin", "b"], ["c", "pool"], ["d"]])
    rows = NoveltyFilter(inner, threshold=0.8, avoid_texts=["pool"], embed_fn=embed).run(None, "p", 4, seed=7)
    assert [r["text"] for r in rows] == ["a", "b", "c", "d"]
    assert [r["retries"] for r in rows] == [0, 0, 1, 2]
    assert inner.calls[0] == (4, 7)                                   # round 0 = the unwrapped run
    assert [n for n, _ in inner.calls] == [4, 2, 1] and len({s for _, s in inner.calls}) == 3
    assert rows[0]["max_similarity"] == pytest.approx(cos("a", "pool"))
    assert rows[3]["max_similarity"] == pytest.approx(max(cos("d", x) for x in ("pool", "a", "b", "c")))
    assert all(r["max_similarity"] <= 0.8 and r["tag"] == "inner" for r in rows)


def test_exhausted_retries_keep_the_least_similar_rejected_candidates():
    inner = Scripted([["a", "a-twin"], ["near-pool"], ["pool"]])
    rows = NoveltyFilter(inner, threshold=0.5, avoid_texts=["pool"], max_retries=2, embed_fn=embed).run(None, "p", 2, 0)
    # rejected: a-twin (0.996 to "a"), near-pool (0.985 to the pool), pool (1.0): the least similar is kept
    assert [r["text"] for r in rows] == ["a", "near-pool"]
    assert rows[1]["max_similarity"] == pytest.approx(cos("near-pool", "pool")) and rows[1]["max_similarity"] > 0.5
    assert rows[1]["retries"] == 1 and len(inner.calls) == 3


def test_exhausted_retries_can_fail_clearly():
    inner = Scripted([["a", "a-twin"], ["a-twin"]])
    with pytest.raises(QuadivError, match="kept 1 of 2 rows"):
        NoveltyFilter(inner, threshold=0.5, max_retries=1, on_exhausted="error", embed_fn=embed).run(None, "p", 2, 0)


def test_no_pool_and_threshold_one_accepts_everything_in_one_round():
    inner = Scripted([["a", "a", "b"]])
    rows = NoveltyFilter(inner, threshold=1.0, embed_fn=embed).run(None, "p", 3, 0)
    assert [r["retries"] for r in rows] == [0, 0, 0] and rows[0]["max_similarity"] == -1.0
    assert rows[1]["max_similarity"] == pytest.approx(1.0)


def test_requires_and_params_come_from_the_wrapped_strategy():
    wrapped = NoveltyFilter(VerbalizedSampling(k=3), threshold=0.9, avoid_texts=["pool"], embed_fn=embed)
    assert wrapped.requires == VerbalizedSampling.requires
    assert NoveltyFilter(Scripted([]), 0.9, embed_fn=embed).requires == frozenset({"chat", "top_logprobs"})
    params = wrapped.params()
    assert params["k"] == 3 and params["strategy"] == "verbalized"
    assert params["novelty"] == {"threshold": 0.9, "max_retries": 3, "embedder": "static", "on_exhausted": "keep",
                                 "avoid": "1 texts"}
    with pytest.raises(UsageError, match="needs top_logprobs"):
        check_capabilities(NoveltyFilter(Scripted([]), 0.9, embed_fn=embed), FakeBackend())


def test_wraps_a_real_strategy_end_to_end():
    replies = iter([{"a": 0.5, "pool": 0.5}, {"pool": 1.0}, {"b": 1.0}])

    def respond(request, i):
        return json.dumps({"responses": [{"text": t, "probability": p} for t, p in next(replies).items()]})
    inner = VerbalizedSampling(k=2, rows_per_call=2)
    rows = NoveltyFilter(inner, 0.5, avoid_texts=["pool"], embed_fn=embed).run(FakeBackend(responder=respond), "p", 2, 0)
    assert sorted(r["text"] for r in rows) == ["a", "b"] and {r["variant"] for r in rows} == {"standard"}


def test_bad_arguments():
    for kwargs in ({"threshold": 1.5}, {"threshold": 0.5, "max_retries": -1}, {"threshold": 0.5, "on_exhausted": "x"}):
        with pytest.raises(UsageError):
            NoveltyFilter(Scripted([]), embed_fn=embed, **kwargs)
