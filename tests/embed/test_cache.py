"""The SQLite embedding cache and embed(): no re-encoding, resume after a crash, input order, dedupe."""

from __future__ import annotations

import hashlib
import sqlite3

import numpy as np
import pytest

from quadiv.embed import EmbeddingCache, embed, text_key
from quadiv.errors import UsageError


class Counting:
    """A deterministic embedder (vector from the text's hash) that records what it was asked to encode."""

    def __init__(self, dim: int = 8, name: str = "counting:v1", fail_after: int | None = None):
        self.name, self.dim, self.fail_after = name, dim, fail_after
        self.seen: list[str] = []

    def encode(self, texts):
        if self.fail_after is not None and len(self.seen) >= self.fail_after:
            raise KeyboardInterrupt("simulated crash")
        self.seen.extend(texts)
        return (
            np.stack([vector(t, self.dim) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)
        )


def vector(text: str, dim: int) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    v = np.random.default_rng(seed).normal(size=dim).astype(np.float32)
    return v / np.linalg.norm(v)


TEXTS = [f"sentence number {i}" for i in range(50)]


def test_text_key_is_sha256():
    assert text_key("héllo") == hashlib.sha256("héllo".encode()).digest()


def test_second_call_encodes_nothing_and_returns_the_same_rows():
    emb = Counting()
    first = embed(TEXTS, emb, batch_size=7)
    assert sorted(emb.seen) == sorted(TEXTS)
    emb.seen.clear()
    second = embed(TEXTS[::-1], emb)
    assert emb.seen == []
    np.testing.assert_array_equal(second, first[::-1])
    np.testing.assert_allclose(first, np.stack([vector(t, 8) for t in TEXTS]), rtol=0, atol=0)


def test_identical_texts_are_encoded_once_and_order_is_kept():
    emb = Counting()
    texts = ["b", "a", "b", "c", "a", "b"]
    out = embed(texts, emb, cache=False)
    assert sorted(emb.seen) == ["a", "b", "c"]
    np.testing.assert_array_equal(out, np.stack([vector(t, 8) for t in texts]))


def test_resume_after_a_crash_encodes_only_the_rest():
    crashing = Counting(fail_after=20)
    with pytest.raises(KeyboardInterrupt):
        embed(TEXTS, crashing, batch_size=10)
    assert len(crashing.seen) == 20
    resumed = Counting()
    out = embed(TEXTS, resumed, batch_size=10)
    assert sorted(resumed.seen) == sorted(set(TEXTS) - set(crashing.seen))
    np.testing.assert_array_equal(out, np.stack([vector(t, 8) for t in TEXTS]))


def test_progress_counts_input_rows():
    calls: list[int] = []
    embed(["x", "y", "x", "z"], Counting(), batch_size=2, progress=calls.append)
    assert calls == [0, 3, 4]
    calls.clear()
    embed(["x", "y", "x", "z", "w"], Counting(), batch_size=2, progress=calls.append)
    assert calls == [4, 5]


def test_cache_is_keyed_by_embedder_name():
    embed(TEXTS, Counting(name="a"))
    other = Counting(name="b")
    embed(TEXTS, other)
    assert len(other.seen) == len(TEXTS)
    assert len(EmbeddingCache("a")) == len(EmbeddingCache("b")) == len(TEXTS)


def test_cache_uses_wal_and_validates_dim(private_cache):
    cache = EmbeddingCache("counting:v1")
    cache.put([text_key("x")], vector("x", 8)[None])
    mode = sqlite3.connect(private_cache / "embeddings.sqlite").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    with pytest.raises(UsageError, match="dim 8"):
        cache.put([text_key("y")], np.ones((1, 4), np.float32))
    found, rows = cache.get([text_key("y"), text_key("x")])
    assert found.tolist() == [False, True] and rows.shape == (1, 8)


def test_cache_false_writes_nothing(private_cache):
    embed(TEXTS, Counting(), cache=False)
    assert not (private_cache / "embeddings.sqlite").exists()


def test_empty_input_and_bad_arguments():
    assert embed([], Counting()).shape == (0, 8)
    with pytest.raises(UsageError, match="single string"):
        embed("one text", Counting())
    with pytest.raises(UsageError, match="text 1 is NoneType"):
        embed(["a", None], Counting())
    with pytest.raises(UsageError, match="batch_size"):
        embed(TEXTS, Counting(), batch_size=0)
    with pytest.raises(UsageError, match="cache given"):
        embed(TEXTS, Counting(), cache=EmbeddingCache("other"))
