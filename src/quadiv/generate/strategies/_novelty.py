"""Novelty filter: wrap any strategy, reject outputs too similar to an avoid pool or to earlier outputs."""
from __future__ import annotations

from typing import Any

import numpy as np

from quadiv.errors import QuadivError, UsageError
from quadiv.generate._base import Backend, Strategy
from quadiv.generate._chat import sub_seed
from quadiv.generate.strategies._negative import (
    Avoid,
    EmbedFn,
    cosine_rows,
    default_embed,
    describe_avoid,
    load_texts,
)

_ON_EXHAUSTED = ("keep", "error")


class NoveltyFilter(Strategy):
    """Accept a candidate y only when s(y) = max cos(e(y), e(z)) over z in avoid pool + accepted outputs <= T.

    Candidates come from the wrapped strategy in rounds: round 0 asks it for n rows with the run's
    seed (so an unrejected run equals the unwrapped one); each retry round asks for the rows still
    missing with a derived seed, up to ``max_retries`` rounds. Candidates are checked in order, each
    against the avoid pool and every output accepted before it (the similarity filter of Rainbow
    Teaming, Samvelyan et al. 2024, sec. 3, with embedding cosine in place of BLEU; GENERATION.md
    sec. 7.3, and the study's advice to dedupe after diversifying, sec. 5(f)). When
    the retries are spent, ``on_exhausted="keep"`` (default) fills the missing rows greedily with the
    rejected candidates of lowest s(y), so exactly n rows always come back and the row's
    ``max_similarity`` > T tells which ones failed; ``"error"`` raises a QuadivError instead. Rows
    get ``max_similarity`` (s(y) at acceptance) and ``retries`` (the round that produced the row).
    Deterministic strategies (temperature 0: div-se, plan) give the same rows on retry, so use the
    filter with sampling strategies.
    """

    name = "novelty"

    def __init__(self, strategy: Strategy, threshold: float, avoid_texts: Avoid = None, max_retries: int = 3,
                 embedder: str = "static", on_exhausted: str = "keep", field: str = "output",
                 embed_fn: EmbedFn | None = None):
        if not -1.0 <= threshold <= 1.0:
            raise UsageError(f"novelty threshold is a cosine similarity in [-1, 1], got {threshold}")
        if max_retries < 0 or on_exhausted not in _ON_EXHAUSTED:
            raise UsageError(f"need max_retries >= 0 and on_exhausted in {_ON_EXHAUSTED}; got {max_retries}, "
                             f"'{on_exhausted}'")
        self._inner = strategy
        self._texts = load_texts(avoid_texts, field)
        self.threshold, self.max_retries = threshold, max_retries
        self.embedder, self.on_exhausted = embedder, on_exhausted
        self.avoid = describe_avoid(avoid_texts, self._texts)
        self._embed = embed_fn or default_embed(embedder)
        self._avoid_vecs: np.ndarray | None = None

    @property
    def requires(self) -> frozenset[str]:  # type: ignore[override]
        """What the wrapped strategy needs (embedding happens locally)."""
        return self._inner.requires

    def params(self) -> dict[str, Any]:
        return {**self._inner.params(), "strategy": self._inner.name,
                "novelty": {k: v for k, v in vars(self).items() if not k.startswith("_")}}

    def run(self, backend: Backend, prompt: str, n: int, seed: int) -> list[dict[str, Any]]:
        avoid = self._avoid()
        rows: list[dict[str, Any]] = []
        kept: list[np.ndarray] = []
        rejected: list[tuple[dict[str, Any], np.ndarray, int]] = []
        for attempt in range(self.max_retries + 1):
            if len(rows) == n:
                break
            batch = self._inner.run(backend, prompt, n - len(rows), seed if attempt == 0 else sub_seed(seed, attempt))
            vecs = cosine_rows(self._embed([r["text"] for r in batch])) if batch else []
            for row, vec in zip(batch, vecs, strict=True):
                score = _max_sim(vec, avoid, kept)
                if score <= self.threshold:
                    rows.append({**row, "max_similarity": score, "retries": attempt})
                    kept.append(vec)
                else:
                    rejected.append((row, vec, attempt))
        if len(rows) < n and self.on_exhausted == "error":
            raise QuadivError(f"novelty filter kept {len(rows)} of {n} rows for a prompt after {self.max_retries} "
                              f"retries: every other candidate had cosine similarity > {self.threshold}; raise the "
                              "threshold or max_retries, or use a more diverse strategy")
        while len(rows) < n and rejected:
            scores = [_max_sim(vec, avoid, kept) for _, vec, _ in rejected]
            row, vec, attempt = rejected.pop(int(np.argmin(scores)))
            rows.append({**row, "max_similarity": min(scores), "retries": attempt})
            kept.append(vec)
        return rows

    def _avoid(self) -> np.ndarray:
        if self._avoid_vecs is None:
            self._avoid_vecs = cosine_rows(self._embed(self._texts)) if self._texts else np.empty((0, 0))
        return self._avoid_vecs


def _max_sim(vec: np.ndarray, avoid: np.ndarray, kept: list[np.ndarray]) -> float:
    """max cosine of a unit vector to the avoid rows and the kept vectors (-1 when both are empty)."""
    sims = [float(np.max(avoid @ vec))] if avoid.size else []
    if kept:
        sims.append(float(np.max(np.asarray(kept) @ vec)))
    return max(sims, default=-1.0)
