"""Embeddings from any OpenAI-compatible HTTP endpoint (POST {base_url}/embeddings), batched and retried."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence

import numpy as np

from quadiv._http import (
    CONNECT_RETRY_WAIT,
    CONNECT_TRIES,
    endpoint,
    is_connect_failure,
    server_message,
    unreachable,
)
from quadiv.embed._base import normalize_rows
from quadiv.errors import QuadivError, UsageError

_KNOWN_DIMS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536}
_RETRY_STATUS = {408, 409, 429}


class EmbeddingRequestError(QuadivError):
    """The embeddings endpoint refused the request or kept failing after the retries."""


class OpenAIEmbedder:
    """Embed through an OpenAI-compatible ``/embeddings`` endpoint; rows are L2-normalised.

    Retries 429, 5xx, timeouts and dropped connections up to ``max_retries`` times, waiting
    min(max_backoff, backoff * 2^k) * U(0.5, 1.5) seconds (or the server's Retry-After) before try k+1;
    a refused connection or an unresolvable host is tried once more, then reported (:mod:`quadiv._http`).
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
        self.base_url, self._api_key = self._where.base_url, self._where.key
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
        import httpx

        texts = list(texts)
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        with httpx.Client(timeout=self.timeout, headers=headers) as client:
            parts = [
                self._post(client, texts[lo : lo + self.batch_size])
                for lo in range(0, len(texts), self.batch_size)
            ]
        out = np.concatenate(parts) if parts else np.zeros((0, self._dim or 0), dtype=np.float32)
        return normalize_rows(out)

    def _post(self, client, batch: list[str]) -> np.ndarray:
        import httpx

        payload: dict = {"model": self.model, "input": batch, "encoding_format": "float"}
        if self.dimensions:
            payload["dimensions"] = self.dimensions
        url = f"{self.base_url}/embeddings"
        refused = 0
        for attempt in range(self.max_retries + 1):
            retry_after, quick = None, False
            try:
                response = client.post(url, json=payload)
            except (httpx.TimeoutException, httpx.TransportError) as err:
                problem = f"{type(err).__name__}: {self._where.redact(str(err))}"
                quick = is_connect_failure(err)
                refused += quick
                if quick and (refused == CONNECT_TRIES or attempt == self.max_retries):
                    raise EmbeddingRequestError(unreachable(url, problem, attempt + 1, self._where)) from None
            else:
                if response.status_code == 200:
                    return self._parse(response, len(batch))
                problem = f"HTTP {response.status_code}: {server_message(response, self._where)}"
                if response.status_code < 500 and response.status_code not in _RETRY_STATUS:
                    raise EmbeddingRequestError(
                        f"POST {url} failed with {problem} (check the model name '{self.model}', the base URL "
                        f"and the API key in OPENAI_API_KEY or QUADIV_API_KEY{self._where.notes()})"
                    )
                retry_after = response.headers.get("retry-after")
            if attempt < self.max_retries:
                time.sleep(CONNECT_RETRY_WAIT if quick else self._wait(attempt, retry_after))
        raise EmbeddingRequestError(
            f"POST {url} still failing after {self.max_retries + 1} tries, last: {problem} "
            f"(try again later, or raise max_retries / timeout{self._where.notes()})"
        )

    def _wait(self, attempt: int, retry_after: str | None) -> float:
        if retry_after is not None:
            try:
                return min(self.max_backoff, max(0.0, float(retry_after)))
            except ValueError:
                pass
        return min(self.max_backoff, self.backoff * 2**attempt) * random.uniform(0.5, 1.5)

    def _parse(self, response, n: int) -> np.ndarray:
        try:
            data = sorted(response.json()["data"], key=lambda item: item["index"])
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
