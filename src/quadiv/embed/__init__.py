"""Embedders, their registry, the on-disk embedding cache and precomputed embeddings.

Every embedder returns float32 rows of unit L2 norm (cosine geometry). Built-in specs for
:func:`get_embedder`:

- ``static`` (default): model2vec-style static vectors distilled once from all-MiniLM-L6-v2
  (:class:`StaticEmbedder`); encodes with numpy and ``tokenizers`` only.
- ``minilm``: all-MiniLM-L6-v2 itself through sentence-transformers (CUDA when available).
- ``st:<path>``: any saved sentence-transformers model directory.
- ``openai:<model>``: any OpenAI-compatible ``/embeddings`` endpoint (:class:`OpenAIEmbedder`).
- ``grad:<model dir>``: the projected loss gradient of each response under a local causal LM
  (:class:`GradientEmbedder`), so that ``vendi`` on its rows is G-Vendi (Prismatic Synthesis). A text is
  the response alone or ``join_prompt(prompt, response)``; the CLI joins the `--instruction-field` column.

:func:`register_embedder` adds a plug-in prefix. :func:`embed` wraps any embedder with the SQLite cache
(:class:`EmbeddingCache`), so a second or resumed run encodes only what is new. :func:`embed_to_shards`
(``quadiv embed``) writes a whole pool as resumable Parquet shards with completion markers, here or as
an engine's tasks; :func:`load_embeddings` reads such a directory.
"""

from __future__ import annotations

from quadiv.embed._base import (
    EMBEDDERS,
    Embedder,
    available_embedders,
    cache_dir,
    get_embedder,
    model_fingerprint,
    normalize_rows,
    quiet_transformers,
    register_embedder,
)
from quadiv.embed._cache import EmbeddingCache, embed, text_key
from quadiv.embed._gradient import PROMPT_SEPARATOR, GradientEmbedder, join_prompt
from quadiv.embed._openai import OpenAIEmbedder
from quadiv.embed._precomputed import embeddings_from_column, load_embeddings
from quadiv.embed._shards import assembled_shards, embed_to_shards, read_manifest
from quadiv.embed._st import SentenceTransformerEmbedder, minilm_path
from quadiv.embed._static import StaticEmbedder, distill_static
from quadiv.errors import EmbeddingRequestError, UsageError  # re-exported: what an embedder raises


def _make_static(arg: str | None, **options) -> StaticEmbedder:
    """Static vectors distilled from all-MiniLM-L6-v2, numpy and tokenizers only."""
    if arg is not None:
        raise UsageError(f"the static embedder takes no argument, got 'static:{arg}'; use 'static'")
    return StaticEmbedder(**options)


def _make_minilm(arg: str | None, **options) -> SentenceTransformerEmbedder:
    """All-MiniLM-L6-v2 through sentence-transformers."""
    if arg is not None:
        raise UsageError(
            f"the minilm embedder takes no argument, got 'minilm:{arg}'; use 'st:{arg}' for a model dir"
        )
    return SentenceTransformerEmbedder(minilm_path(), name="minilm:all-MiniLM-L6-v2", **options)


def _make_st(arg: str | None, **options) -> SentenceTransformerEmbedder:
    """``st:<model dir>``: any saved sentence-transformers model directory."""
    if not arg:
        raise UsageError("the st embedder needs a model directory: 'st:/path/to/model'")
    return SentenceTransformerEmbedder(arg, **options)


def _make_openai(arg: str | None, **options) -> OpenAIEmbedder:
    """``openai:<model>``: an OpenAI-compatible /embeddings endpoint."""
    if not arg:
        raise UsageError("the openai embedder needs a model name: 'openai:text-embedding-3-small'")
    return OpenAIEmbedder(arg, **options)


def _make_grad(arg: str | None, **options) -> GradientEmbedder:
    """``grad:<model dir>``: projected loss gradients under a local causal LM (G-Vendi)."""
    if not arg:
        raise UsageError("the grad embedder needs a causal LM directory: 'grad:/path/to/model'")
    return GradientEmbedder(arg, **options)


register_embedder("static", _make_static)
register_embedder("minilm", _make_minilm)
register_embedder("st", _make_st)
register_embedder("openai", _make_openai)
register_embedder("grad", _make_grad)

__all__ = [
    "EMBEDDERS",
    "PROMPT_SEPARATOR",
    "Embedder",
    "EmbeddingCache",
    "EmbeddingRequestError",
    "GradientEmbedder",
    "OpenAIEmbedder",
    "SentenceTransformerEmbedder",
    "StaticEmbedder",
    "assembled_shards",
    "available_embedders",
    "cache_dir",
    "distill_static",
    "embed",
    "embed_to_shards",
    "embeddings_from_column",
    "get_embedder",
    "join_prompt",
    "load_embeddings",
    "minilm_path",
    "model_fingerprint",
    "normalize_rows",
    "quiet_transformers",
    "read_manifest",
    "register_embedder",
    "text_key",
]
