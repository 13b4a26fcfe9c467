"""Negative prompting: nearest avoid-pool texts and earlier outputs are shown to the model as texts to avoid."""
from __future__ import annotations

import importlib
import json

import numpy as np
import pytest
from fake_backend import FakeBackend

from quadiv.errors import UsageError
from quadiv.generate import STRATEGIES, NegativePrompting
from quadiv.generate.strategies._negative import load_texts

VECS = {"prompt": [1.0, 0.0, 0.0], "near": [0.9, 0.1, 0.0], "mid": [0.5, 0.5, 0.0], "far": [0.0, 0.0, 1.0],
        "opposite": [-1.0, 0.0, 0.0]}


def embed(texts):
    return np.array([VECS[t] for t in texts], dtype=float)


def test_nearest_pool_texts_by_cosine_nearest_first():
    strategy = NegativePrompting(avoid=["far", "mid", "opposite", "near"], k_pool=2, embed_fn=embed)
    assert strategy.nearest("prompt") == ["near", "mid"]
    assert NegativePrompting(avoid=["far", "near"], k_pool=5, embed_fn=embed).nearest("prompt") == ["near", "far"]


def test_prompt_shows_pool_and_earlier_outputs_and_asks_to_differ():
    backend = FakeBackend(["out-1", "out-2", "out-3"])
    rows = NegativePrompting(avoid=["far", "near", "mid"], k_pool=2, k_generated=1, embed_fn=embed).run(
        backend, "prompt", 3, seed=0)
    assert [r["text"] for r in rows] == ["out-1", "out-2", "out-3"]
    assert [r["negatives_shown"] for r in rows] == [2, 3, 3]
    first, second, third = backend.user_texts()
    assert first.startswith("prompt\n\n") and "must differ from every one of them" in first
    assert "[1] near" in first and "[2] mid" in first and "far" not in first
    assert "[1] out-1" in second and "[2] near" in second
    assert "[1] out-2" in third and "out-1" not in third            # only the k_generated most recent
    assert len({r.seed for r in backend.requests}) == 3 and backend.batches == 3


def test_without_pool_the_first_request_is_the_plain_prompt():
    backend = FakeBackend(["a", "b"])
    NegativePrompting(embed_fn=embed).run(backend, "Write a haiku.", 2, seed=0)
    assert backend.user_texts()[0] == "Write a haiku."
    assert "[1] a" in backend.user_texts()[1]


def test_examples_are_cut_to_max_example_chars():
    backend = FakeBackend(["x" * 50, "y"])
    NegativePrompting(max_example_chars=10, embed_fn=embed).run(backend, "p", 2, seed=0)
    assert "[1] " + "x" * 10 + "\n" in backend.user_texts()[1] and "x" * 11 not in backend.user_texts()[1]


def test_avoid_pool_read_from_a_file_with_a_field_template(tmp_path):
    path = tmp_path / "pool.jsonl"
    path.write_text("\n".join(json.dumps({"instruction": f"i{k}", "output": f"o{k}"}) for k in range(3)) + "\n")
    assert load_texts(path) == ["o0", "o1", "o2"]
    assert load_texts(str(path), field="{instruction}: {output}") == ["i0: o0", "i1: o1", "i2: o2"]
    strategy = NegativePrompting(avoid=path, embed_fn=embed)
    assert strategy.params()["avoid"] == str(path)
    assert NegativePrompting(avoid=["a", "b"], embed_fn=embed).params()["avoid"] == "2 texts"


def test_default_embedding_goes_through_quadiv_embed(monkeypatch):
    calls = []

    def fake_embed(texts, embedder):
        calls.append((list(texts), embedder))
        return embed(texts)
    monkeypatch.setattr(importlib.import_module("quadiv.embed"), "embed", fake_embed)
    assert NegativePrompting(avoid=["far", "near"], k_pool=1, embedder="minilm").nearest("prompt") == ["near"]
    assert calls == [(["far", "near"], "minilm"), (["prompt"], "minilm")]


def test_bad_arguments_and_registry():
    assert STRATEGIES["negative"] is NegativePrompting
    with pytest.raises(UsageError):
        NegativePrompting(avoid=["ok", 3])
    with pytest.raises(UsageError):
        NegativePrompting(k_pool=-1)

