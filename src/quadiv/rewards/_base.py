"""The base of quadiv's TRL reward functions: call signature, gathering, quality, embeddings and logging."""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from quadiv.errors import UsageError
from quadiv.rewards._group import Batch, Gatherer, as_rewards, dataset_columns, default_gatherer


class GroupReward(ABC):
    """A TRL reward function over groups of completions of one prompt.

    An instance is called as TRL calls a reward function (``prompts``, ``completions``, ``**kwargs``) and
    returns one float per completion. ``__name__`` names it in TRL's logs (``rewards/<name>/mean``).
    ``gather``: a :class:`~quadiv.rewards.Gatherer` (default: accelerate's process group when there are
    several processes), so that a group split across processes is scored whole. With ``log_metrics`` and
    TRL's ``log_metric``, each call logs ``quadiv/vendi`` (the mean over groups of the completions' Vendi
    score, cosine kernel) and ``quadiv/distinct_2`` (mean over groups).
    """

    name: ClassVar[str] = ""

    @abstractmethod
    def __init__(self, embedder: Any = "static", gather: Gatherer | None | str = "auto", log_metrics: bool = True):
        self.__name__ = self.name
        self._embedder_spec, self._embedder = embedder, None
        self._gather, self.log_metrics = gather, log_metrics

    def __call__(self, prompts: list, completions: list, **kwargs: Any) -> list[float | None]:
        if len(prompts) != len(completions):
            raise UsageError(f"{self.name}: {len(prompts)} prompts for {len(completions)} completions")
        gatherer = default_gatherer() if self._gather == "auto" else self._gather
        batch = Batch(list(prompts), list(completions), dataset_columns(kwargs, len(completions)), gatherer)
        rewards = np.asarray(self.rewards(batch, kwargs), dtype=np.float64)
        log = kwargs.get("log_metric")
        if self.log_metrics and callable(log):
            for name, value in self._metrics(batch).items():
                log(name, value)
        return as_rewards(rewards[batch.local])

    def rewards(self, batch: Batch, kwargs: dict[str, Any]) -> np.ndarray:
        """One reward per completion of the whole (gathered) batch."""

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit rows of ``texts`` by the embedder (no disk cache: completions are new at every step)."""
        if self._embedder is None:
            from quadiv.embed import get_embedder

            spec = self._embedder_spec
            self._embedder = get_embedder(spec) if isinstance(spec, str) else spec
        from quadiv.geometry import unit_rows

        return unit_rows(np.asarray(self._embedder.encode(texts), dtype=np.float32))

    def _metrics(self, batch: Batch) -> dict[str, float]:
        from quadiv.measure import distinct_n, vendi

        X = getattr(batch, "embeddings", None)
        if X is None:
            X = self.embed(batch.texts)
        vendis = [vendi(X[g]) for g in batch.groups]
        distinct = [distinct_n([batch.texts[i] for i in g], 2) for g in batch.groups]
        return {"quadiv/vendi": float(np.mean(vendis)), "quadiv/distinct_2": float(np.mean(distinct))}


def as_quality(quality: Any) -> Callable[[Batch, dict[str, Any]], np.ndarray] | None:
    """A quality term per completion: a quadiv scorer (or its spec), or a TRL reward function (prompts, completions).

    A scorer sees each completion as the response and the prompt's text as its instruction; a scorer whose
    lower is better (perplexity) is negated. A TRL reward function gets the batch's prompts, completions and
    dataset columns, as TRL would call it; its ``None`` are NaN.
    """
    if quality is None:
        return None
    if isinstance(quality, str):
        from quadiv.quality import get_scorer

        quality = get_scorer(quality)
    if hasattr(quality, "score"):
        from quadiv.quality import Item

        sign = 1.0 if getattr(quality, "higher_is_better", True) else -1.0

        def scored(batch: Batch, kwargs: dict[str, Any]) -> np.ndarray:
            items = [Item(t, p) for t, p in zip(batch.texts, batch.prompt_texts)]
            return sign * np.asarray(quality.score(items).values, dtype=np.float64)
        return scored
    if callable(quality):
        def called(batch: Batch, kwargs: dict[str, Any]) -> np.ndarray:
            extra = {k: v for k, v in kwargs.items() if k in ("trainer_state",)}
            values = quality(prompts=batch.prompts, completions=batch.completions, **batch.columns, **extra)
            return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
        return called
    raise UsageError(f"`quality` must be a quadiv scorer, its name, or a reward function; got {type(quality).__name__}")


def zscore(values: np.ndarray, groups: list[np.ndarray]) -> np.ndarray:
    """Each group's values standardised within the group (a group with no spread gives 0s)."""
    out = np.zeros_like(values, dtype=np.float64)
    for g in groups:
        v = values[g]
        std = np.nanstd(v)
        out[g] = (v - np.nanmean(v)) / std if std > 0 else 0.0
    return out
