"""Prompt-level negative prompting: show the model texts to avoid (nearest pool items, its own outputs)."""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from quadiv.errors import UsageError
from quadiv.generate._base import Backend, Strategy, register_strategy
from quadiv.generate._chat import chat, sub_seed
from quadiv.geometry import unit_rows

EmbedFn = Callable[[list[str]], np.ndarray]
Avoid = Sequence[str] | str | os.PathLike | None


def load_texts(avoid: Avoid, field: str = "output") -> list[str]:
    """Texts to avoid: a list as given, or a pool file read with quadiv.io and rendered with ``field``."""
    if avoid is None:
        return []
    if isinstance(avoid, (str, os.PathLike)):
        from quadiv import io

        return io.render_texts(io.read(avoid), field, path=str(avoid))
    texts = list(avoid)
    bad = next((i for i, t in enumerate(texts) if not isinstance(t, str)), None)
    if bad is not None:
        raise UsageError(f"avoid text {bad} is {type(texts[bad]).__name__}, not a string: give a list of texts "
                         "or a pool file path")
    return texts


def default_embed(embedder: str) -> EmbedFn:
    """texts -> unit rows through quadiv.embed (cached on disk)."""
    def run(texts: list[str]) -> np.ndarray:
        from quadiv.embed import embed

        return embed(texts, embedder=embedder)
    return run


def cosine_rows(X: np.ndarray) -> np.ndarray:
    """Embeddings as float64 unit rows for cosine similarity (zero rows stay zero): geometry's unit_rows."""
    return unit_rows(np.atleast_2d(np.asarray(X, dtype=np.float64)), empty_axis=False, keep_float64=True)


def describe_avoid(avoid: Avoid, texts: list[str]) -> str | None:
    """How the avoid pool is recorded in the row parameters: its path, or its size."""
    if avoid is None:
        return None
    return str(avoid) if isinstance(avoid, (str, os.PathLike)) else f"{len(texts)} texts"


@register_strategy
class NegativePrompting(Strategy):
    """Ask for a new response while showing examples it must not resemble; one call per row, in sequence.

    Row i's prompt holds the task, then up to ``k_pool`` pool texts nearest to the prompt (cosine of
    ``embedder`` vectors, argmax_j <e(prompt), e(a_j)>) and the ``k_generated`` most recent outputs
    already generated for this prompt in this call, with the instruction to differ from all of them
    in content, approach and wording. This is the prompt-level fallback that GENERATION.md sec. 2(f)
    names for backends without logits access: STEER's negative context (m = 10 examples from a pool
    that grows with every output; O'Neill et al. 2023, "Steering Language Generation: Harnessing
    Contrastive Expert Guidance and Negative Prompting...", method section, negative prompting) shown
    as text instead of subtracted as log-probabilities. It is not STEER. Examples are cut to ``max_example_chars``.

    Parameters:
        avoid: a pool file (any format) whose texts outputs should differ from (None: only earlier outputs).
        field: the text column of avoid.
        k_pool: avoid texts nearest to the prompt shown as negatives.
        k_generated: most recent outputs for the prompt shown as negatives.
        embedder: embedder that finds the nearest avoid texts (static, minilm, ...).
        temperature: sampling temperature.
        top_p: nucleus mass.
        max_tokens: token cap of each output.
        max_example_chars: negatives are cut to this many characters.
        embed_fn: an embedding function (library only; replaces embedder).
    """

    name = "negative"

    def __init__(self, avoid: Avoid = None, field: str = "output", k_pool: int = 5, k_generated: int = 5,
                 embedder: str = "static", temperature: float = 1.0, top_p: float = 1.0, max_tokens: int = 512,
                 max_example_chars: int = 1000, embed_fn: EmbedFn | None = None):
        if k_pool < 0 or k_generated < 0 or max_example_chars < 1:
            raise UsageError(f"need k_pool >= 0, k_generated >= 0 and max_example_chars >= 1; got {k_pool}, "
                             f"{k_generated}, {max_example_chars}")
        if embed_fn is not None and not callable(embed_fn):
            raise UsageError(f"embed_fn must be a function (from Python), got {embed_fn!r}; on the command line "
                             "choose embedder=NAME")
        self._texts = load_texts(avoid, field)
        self.avoid, self.field = describe_avoid(avoid, self._texts), field
        self.k_pool, self.k_generated, self.embedder = k_pool, k_generated, embedder
        self.temperature, self.top_p, self.max_tokens = temperature, top_p, max_tokens
        self.max_example_chars = max_example_chars
        self._embed = embed_fn or default_embed(embedder)
        self._pool: np.ndarray | None = None

    def nearest(self, prompt: str) -> list[str]:
        """The ``k_pool`` avoid texts nearest to the prompt, nearest first."""
        if not self._texts or self.k_pool == 0:
            return []
        if self._pool is None:
            self._pool = cosine_rows(self._embed(self._texts))
        sims = self._pool @ cosine_rows(self._embed([prompt]))[0]
        k = min(self.k_pool, len(self._texts))
        top = np.argpartition(-sims, k - 1)[:k]
        return [self._texts[i] for i in top[np.argsort(-sims[top], kind="stable")]]

    def build_prompt(self, prompt: str, negatives: Sequence[str]) -> str:
        """The task, then the numbered texts to avoid and the instruction to differ from them."""
        if not negatives:
            return prompt
        shown = "\n\n".join(f"[{i}] {t[:self.max_example_chars]}" for i, t in enumerate(negatives, start=1))
        return (f"{prompt}\n\nExisting responses to avoid. Yours must differ from every one of them in content, "
                f"approach and wording; do not copy or paraphrase them:\n\n{shown}\n\n"
                "Write one new response to the task above. Output only the response.")

    def run(self, backend: Backend, prompt: str, n: int, seed: int) -> list[dict[str, Any]]:
        pool = self.nearest(prompt)
        rows: list[dict[str, Any]] = []
        for i in range(n):
            recent = [r["text"] for r in rows[::-1][:self.k_generated]]
            negatives = recent + pool
            messages = [{"role": "user", "content": self.build_prompt(prompt, negatives)}]
            (texts,) = chat(backend, [messages], seeds=[sub_seed(seed, i)], temperature=self.temperature,
                            top_p=self.top_p, max_tokens=self.max_tokens)
            rows.append({"text": texts[0], "negatives_shown": len(negatives)})
        return rows
