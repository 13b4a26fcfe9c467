"""Registry, spec parsing and row normalisation."""

from __future__ import annotations

import numpy as np
import pytest

from quadiv.embed import (
    Embedder,
    OpenAIEmbedder,
    SentenceTransformerEmbedder,
    StaticEmbedder,
    available_embedders,
    cache_dir,
    get_embedder,
    normalize_rows,
    register_embedder,
)
from quadiv.errors import UsageError


class Constant:
    """A plug-in embedder: every text maps to the same unit vector."""

    def __init__(self, dim: int):
        self.name, self.dim = f"constant:{dim}", dim

    def encode(self, texts):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        out[:, 0] = 1
        return out


def test_builtin_specs_build_the_right_classes():
    assert isinstance(get_embedder(), StaticEmbedder)
    assert get_embedder("static").name == "static:all-MiniLM-L6-v2:v1"
    assert get_embedder("static", pca_dims=384).name != get_embedder("static").name
    assert isinstance(get_embedder("minilm"), SentenceTransformerEmbedder)
    assert isinstance(get_embedder("openai:text-embedding-3-small", api_key="k"), OpenAIEmbedder)
    assert {"static", "minilm", "st", "openai"} <= set(available_embedders())


def test_st_spec_takes_a_path(tmp_path):
    emb = get_embedder(f"st:{tmp_path}")
    assert emb.name == f"st:{tmp_path.resolve()}"
    with pytest.raises(UsageError, match="does not exist"):
        get_embedder(f"st:{tmp_path / 'missing'}")


def test_unknown_spec_lists_the_choices():
    with pytest.raises(UsageError, match="static, minilm, st:<model dir>, openai:<model>"):
        get_embedder("word2vec")


@pytest.mark.parametrize("spec", ["static:x", "minilm:x", "st", "openai"])
def test_misused_specs_are_usage_errors(spec):
    with pytest.raises(UsageError):
        get_embedder(spec)


def test_bad_option_is_a_usage_error():
    with pytest.raises(UsageError, match="bad option"):
        get_embedder("static", colour="red")
    with pytest.raises(UsageError, match="pca_dims"):
        get_embedder("static", pca_dims=1000)


def test_plugin_registration_and_protocol():
    register_embedder("constant", lambda arg, **kw: Constant(int(arg or 3)))
    emb = get_embedder("constant:5")
    assert isinstance(emb, Embedder) and emb.dim == 5
    assert "constant" in available_embedders()
    with pytest.raises(UsageError):
        register_embedder("a:b", Constant)


def test_normalize_rows_unit_norm_and_zero_rows_stay_zero():
    X = np.array([[3.0, 4.0], [0.0, 0.0], [1e-30, 0.0]])
    out = normalize_rows(X)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[0.6, 0.8], [0, 0], [1, 0]], atol=1e-7)


def test_cache_dir_follows_env(monkeypatch, tmp_path):
    monkeypatch.setenv("QUADIV_CACHE", str(tmp_path))
    assert cache_dir() == tmp_path
    monkeypatch.delenv("QUADIV_CACHE")
    assert cache_dir().name == "quadiv"
