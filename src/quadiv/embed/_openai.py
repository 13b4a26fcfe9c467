"""Embeddings from any OpenAI-compatible HTTP endpoint (POST {base_url}/embeddings), batched and retried."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import closing
from typing import Any

import numpy as np

from quadiv._http import OpenAIClient, endpoint
from quadiv.embed._base import normalize_rows
from quadiv.errors import EmbeddingRequestError, UsageError

_KNOWN_DIMS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536}


class OpenAIEmbedder:
    """Embed through an OpenAI-compatible ``/embeddings`` endpoint; rows are L2-normalised.

    Retries 408, 409, 429, 5xx, timeouts and dropped connections up to ``max_retries`` times, waiting
    U(0, min(max_backoff, backoff * 2^k)) seconds (or the server's Retry-After) before try k+1; a
    refused connection or an unresolvable host is tried once more, then reported (:mod:`quadiv._http`).
    The URL is ``base_url``, else $OPENAI_BASE_URL, else the public OpenAI endpoint (errors say so).
    The API key comes from ``api_key``, else $OPENAI_API_KEY, else $QUADIV_API_KEY; it is sent in the
    Authorization header only, never printed, never part of ``name`` and never written to disk.
    """

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        batch_size: int = 256,
        timeout: float = 60.0,
        max_retries: int = 5,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        dimensions: int | None = None,
    ):
        if batch_size < 1 or max_retries < 0:
            raise UsageError(
                f"batch_size must be >= 1 and max_retries >= 0, got {batch_size} and {max_retries}"
            )
        self.model = model
        self._where = endpoint(base_url, api_key)
        self.base_url = self._where.base_url
        self.batch_size, self.timeout = batch_size, timeout
        self.max_retries, self.backoff, self.max_backoff = max_retries, backoff, max_backoff
        self.dimensions = dimensions
        self.name = f"openai:{model}@{self.base_url}" + (f":d{dimensions}" if dimensions else "")
        self._dim = dimensions or _KNOWN_DIMS.get(model)

    def __repr__(self) -> str:
        return f"OpenAIEmbedder(model={self.model!r}, base_url={self.base_url!r})"

    @property
    def dim(self) -> int:
        """Width of the vectors (asks the endpoint once when the model is not known)."""
        if self._dim is None:
            self.encode(["dimension probe"])
        return self._dim

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts in batches of ``batch_size`` requests; returns (n, dim) float32, unit rows."""
        texts = list(texts)
        client = OpenAIClient(self._where, EmbeddingRequestError, timeout=self.timeout, max_retries=self.max_retries,
                              backoff=self.backoff, max_backoff=self.max_backoff, refusal=self._refusal,
                              exhausted=self._exhausted)
        with closing(client):
            parts = [
                self._post(client, texts[lo : lo + self.batch_size])
                for lo in range(0, len(texts), self.batch_size)
            ]
        out = np.concatenate(parts) if parts else np.zeros((0, self._dim or 0), dtype=np.float32)
        return normalize_rows(out)

    def _post(self, client: OpenAIClient, batch: list[str]) -> np.ndarray:
        payload: dict = {"model": self.model, "input": batch, "encoding_format": "float"}
        if self.dimensions:
            payload["dimensions"] = self.dimensions
        return self._parse(client.post("/embeddings", payload), len(batch))

    def _refusal(self, url: str, status: int, problem: str) -> str:
        return (f"POST {url} failed with {problem} (check the model name '{self.model}', the base URL "
                f"and the API key in OPENAI_API_KEY or QUADIV_API_KEY{self._where.notes()})")

    def _exhausted(self, url: str, tries: int, problem: str) -> str:
        return (f"POST {url} still failing after {tries} tries, last: {problem} "
                f"(try again later, or raise max_retries / timeout{self._where.notes()})")

    def _parse(self, answer: Any, n: int) -> np.ndarray:
        try:
            data = sorted(answer["data"], key=lambda item: item["index"])
            out = np.asarray([item["embedding"] for item in data], dtype=np.float32)
        except (ValueError, KeyError, TypeError) as err:
            raise EmbeddingRequestError(
                f"{self.base_url}/embeddings answered with an unexpected body ({err!r}); "
                "expected {'data': [{'index': i, 'embedding': [...]}, ...]}"
            ) from None
        if out.ndim != 2 or out.shape[0] != n:
            raise EmbeddingRequestError(
                f"{self.base_url}/embeddings returned {out.shape[0] if out.ndim else 0} "
                f"vectors for {n} texts: the endpoint is not OpenAI-compatible"
            )
        self._dim = out.shape[1]
        return out
