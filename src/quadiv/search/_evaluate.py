"""Fitness, descriptors, contests, the target model and the similarity filter, from scorers or callables.

A quadiv quality scorer (``quadiv.quality.get_scorer``: a judge, a reward model, a classifier, the
heuristic rules, ...) scores a batch of :class:`~quadiv.quality.Item`; a plain Python function takes
one text. Where a target model answers the children (red teaming), fitness and descriptors read the
response, with the child as its instruction.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from quadiv.errors import UsageError
from quadiv.quality import Item

Batch = Callable[[list[str], list[str | None]], list]


def as_fitness(fitness: Any) -> Batch:
    """Texts (and their prompts) -> floats, higher is better; a scorer whose lower is better is negated."""
    if hasattr(fitness, "score"):
        sign = 1.0 if getattr(fitness, "higher_is_better", True) else -1.0

        def scored(texts: list[str], prompts: list[str | None]) -> list[float]:
            values = fitness.score([Item(t, p) for t, p in zip(texts, prompts)]).values
            return [sign * float(v) for v in values]
        return scored
    if callable(fitness):
        return lambda texts, prompts: [_number(fitness(t), "fitness") for t in texts]
    raise UsageError(f"`fitness` must be a quality scorer or a function text -> float; got {type(fitness).__name__}")


def as_descriptors(descriptors: Any, num_axes: int) -> Batch | None:
    """Texts -> one tuple of ``num_axes`` values each; None for ``"target"`` (the cell the child was written for).

    ``descriptors`` is "target", a function text -> values (a sequence, or one value for one axis), a joint
    describer of every axis (``joint = True``: :class:`LearnedProjection`), or a list with one entry per axis: a scorer (its value: a judge's probability, QDAIF), a
    :class:`JudgeCategory`, an object with ``describe(texts, prompts)``, or a function text -> value.
    """
    if isinstance(descriptors, str):
        if descriptors != "target":
            raise UsageError(f"`descriptors` as a string must be 'target'; got '{descriptors}'")
        return None
    if getattr(descriptors, "joint", False):  # one describer of every axis (QDHF's learned projection)
        return descriptors.describe
    if callable(descriptors) and not hasattr(descriptors, "score") and not hasattr(descriptors, "describe"):
        def described(texts: list[str], prompts: list[str | None]) -> list[tuple]:
            return [_values(descriptors(t), num_axes) for t in texts]
        return described
    parts = list(descriptors) if isinstance(descriptors, (list, tuple)) else [descriptors]
    if len(parts) != num_axes:
        raise UsageError(f"`descriptors` lists {len(parts)} per-axis describers for {num_axes} axes")
    per_axis = [_per_axis(part) for part in parts]

    def combined(texts: list[str], prompts: list[str | None]) -> list[tuple]:
        columns = [describe(texts, prompts) for describe in per_axis]
        return [tuple(row) for row in zip(*columns)]
    return combined


def _per_axis(part: Any) -> Batch:
    if hasattr(part, "describe"):
        return part.describe
    if hasattr(part, "score"):
        return as_fitness(part)
    if callable(part):
        return lambda texts, prompts: [part(t) for t in texts]
    raise UsageError(f"a per-axis describer must be a scorer, a describer or a function; got {type(part).__name__}")


def _values(value: Any, num_axes: int) -> tuple:
    values = tuple(value) if isinstance(value, (list, tuple, np.ndarray)) else (value,)
    if len(values) != num_axes:
        raise UsageError(f"the descriptor function returned {len(values)} values for {num_axes} axes")
    return tuple(v.item() if hasattr(v, "item") else v for v in values)


def _number(value: Any, what: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise UsageError(f"the {what} function must return a number; got {type(value).__name__}") from None


def as_contest(contest: Any) -> Callable[[list[tuple[str, str, str | None]]], list[bool]] | None:
    """(challenger, incumbent, prompt) triples -> does the challenger win (Rainbow Teaming's pairwise judge).

    A pairwise judge scorer (``judge:<model>`` with mode pairwise) gives p(challenger beats the reference),
    both orders averaged; a function ``(challenger, incumbent) -> bool or p`` works too. Wins: p > 0.5.
    """
    if contest is None:
        return None
    if hasattr(contest, "score"):
        def judged(pairs: list[tuple[str, str, str | None]]) -> list[bool]:
            values = contest.score([Item(c, p, reference=i) for c, i, p in pairs]).values
            return [bool(v > 0.5) for v in values]
        return judged
    if callable(contest):
        return lambda pairs: [bool(_number(contest(c, i), "contest") > 0.5) for c, i, _ in pairs]
    raise UsageError(f"`contest` must be a pairwise judge or a function (challenger, incumbent) -> p; "
                     f"got {type(contest).__name__}")


def as_responder(respond: Any, temperature: float = 0.6, max_tokens: int = 512) -> Callable[[list[str]], list[str]] | None:
    """Children -> the target model's responses: a generation backend, or a function prompt -> response."""
    if respond is None:
        return None
    if hasattr(respond, "generate"):
        def answered(prompts: list[str]) -> list[str]:
            from quadiv.generate import GenRequest

            replies = respond.generate([GenRequest(messages=[{"role": "user", "content": p}], temperature=temperature,
                                                   max_tokens=max_tokens, seed=k) for k, p in enumerate(prompts)])
            return [reply[0].text if reply else "" for reply in replies]
        return answered
    if callable(respond):
        return lambda prompts: [str(respond(p)) for p in prompts]
    raise UsageError(f"`respond` must be a generation backend or a function prompt -> response; "
                     f"got {type(respond).__name__}")


class SimilarityFilter:
    """Drop a child whose BLEU against its parent, or against a child kept earlier in the batch, exceeds ``threshold``.

    Rainbow Teaming (arXiv 2402.16822, sec. 3.2) and Ferret discard mutations with BLEU similarity to the
    parent above 0.6; RainbowPlus applies it within the batch too. BLEU is sacreBLEU's sentence BLEU / 100.
    """

    def __init__(self, threshold: float = 0.6):
        if not 0 < threshold <= 1:
            raise UsageError(f"the similarity `threshold` must be in (0, 1]; got {threshold}")
        self.threshold = threshold

    def keep(self, texts: Sequence[str], parents: Sequence[str]) -> list[bool]:
        from sacrebleu.metrics import BLEU

        bleu = BLEU(effective_order=True)
        kept: list[str] = []
        out = []
        for text, parent in zip(texts, parents):
            near = bleu.sentence_score(text, [parent]).score / 100 > self.threshold or any(
                bleu.sentence_score(text, [other]).score / 100 > self.threshold for other in kept)
            out.append(not near)
            if not near:
                kept.append(text)
        return out


class JudgeCategory:
    """A categorical descriptor from an LLM judge: which of an axis' categories a text belongs to.

    QDAIF's poetry domain (sec. 4.3) and Ferret's categorical filter ask a model for the category. The
    judge sees the numbered categories and answers with a number; with top logprobs (at most 9
    categories) the likeliest number wins, else ``samples`` sampled replies vote. A reply naming no
    category gives no cell (the child is not inserted).
    """

    TEMPLATE = ("Which of these categories describes the {axis} of the text below best?\n{options}\n\nText:\n"
                "{text}\n\nAnswer with the number of the category only.\nCategory:")

    def __init__(self, backend: Any, axis: str, categories: Sequence[str], template: str | None = None,
                 samples: int = 1, temperature: float = 0.0):
        if not categories:
            raise UsageError(f"the judge of axis '{axis}' needs categories")
        self.backend, self.axis, self.categories = backend, axis, list(categories)
        self.template, self.samples, self.temperature = template or self.TEMPLATE, samples, temperature
        if "{text}" not in self.template:
            raise UsageError(f"the category template of axis '{axis}' lacks {{text}}")

    def describe(self, texts: list[str], prompts: list[str | None]) -> list[str | None]:
        from quadiv.generate import GenRequest

        options = "\n".join(f"{k}. {c}" for k, c in enumerate(self.categories, start=1))
        logprobs = "top_logprobs" in self.backend.capabilities and len(self.categories) <= 9
        requests = [GenRequest(messages=[{"role": "user", "content": self.template.replace("{axis}", self.axis)
                                          .replace("{options}", options).replace("{text}", t)}],
                               n=1 if logprobs else self.samples, temperature=self.temperature, max_tokens=4,
                               logprobs=20 if logprobs else None, seed=k) for k, t in enumerate(texts)]
        return [self._read(reply, logprobs) for reply in self.backend.generate(requests)]

    def _read(self, reply: list, logprobs: bool) -> str | None:
        if logprobs and reply and reply[0].top_logprobs:
            mass = np.zeros(len(self.categories))
            for token, logprob in reply[0].top_logprobs[0].items():
                k = _category_number(token, len(self.categories))
                if k is not None:
                    mass[k] += math.exp(logprob)
            if mass.sum() > 0:
                return self.categories[int(mass.argmax())]
        votes = [k for k in (self._parse(c.text) for c in reply) if k is not None]
        return self.categories[max(set(votes), key=votes.count)] if votes else None

    def _parse(self, text: str) -> int | None:
        k = _category_number(text, len(self.categories))
        if k is not None:
            return k
        lowered = text.strip().lower()
        return next((i for i, c in enumerate(self.categories) if lowered.startswith(c.lower())), None)


def _category_number(text: str, count: int) -> int | None:
    found = re.match(r"\s*(\d+)", text)
    if found and 1 <= int(found.group(1)) <= count:
        return int(found.group(1)) - 1
    return None
