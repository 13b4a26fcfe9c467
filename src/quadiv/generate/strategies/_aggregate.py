"""Aggregation of N samples: Best-of-N (judge picks one), Fusion-of-N (fusor writes one), Self-MoA.

Each output row is one aggregation over its own N fresh samples (seeds derived from the run seed and
the row index), so n rows cost n x (N samples + the judge calls). The judge is a Backend (default:
the generating backend itself).
"""
from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from quadiv.errors import QuadivError, UsageError
from quadiv.generate._base import Backend, Completion, GenRequest, Strategy, register_strategy
from quadiv.generate._chat import Messages, chat, sub_seed

SCALE = (1, 9)
_LABELS = {str(s): s for s in range(SCALE[0], SCALE[1] + 1)}
_NUM = r"(\d+(?:\.\d+)?)"
_SCORE_PATTERNS = [re.compile(p, re.IGNORECASE) for p in (
    r"(?:score|rating|grade)\s*(?:is|of|=|:)?\s*\**\s*" + _NUM + r"(?:\s*(?:/|out\s+of)\s*" + _NUM + r")?",
    _NUM + r"\s*(?:/|out\s+of)\s*" + _NUM,
    r"(?<![\d.])" + _NUM + r"(?!\d|\.\d|\s*(?:/|out\s+of))",
)]
_JUDGE_MODES = ("auto", "text", "logprobs")


def parse_score(text: str, scale: tuple[int, int] = SCALE) -> float:
    """A judge's score from its reply, on ``scale``; NaN when the reply holds none.

    Tried in order: "Score: 7" (also rating/grade, with "/ 9" or "out of 10"), "7/9" or "7 out of 10",
    then the first bare number. A score given out of another maximum m is rescaled, s * hi / m; the
    result is clipped to the scale.
    """
    lo, hi = scale
    for pattern in _SCORE_PATTERNS:
        m = pattern.search(text)
        if m:
            value = float(m.group(1))
            denominator = m.group(2) if pattern.groups > 1 else None
            if denominator and float(denominator) > 0 and float(denominator) != hi:
                value = value * hi / float(denominator)
            return float(min(max(value, lo), hi))
    return math.nan


def expected_label_score(completion: Completion) -> float:
    """E[s] = sum_s s p(s) / sum_s p(s) over the score labels at the first position that has any; NaN if none.

    The label-probability judge of G-Eval (Liu et al. 2023, sec. 2.3: score = sum_i p(s_i) s_i) and
    of QDAIF (GENERATION.md sec. 1 and 12.2: "label-logprob mode when top_logprobs is available").
    """
    for position in completion.top_logprobs or []:
        found = {_LABELS[t.strip()]: lp for t, lp in position.items() if t.strip() in _LABELS}
        if found:
            scores = np.array(list(found), dtype=float)
            logp = np.array(list(found.values()), dtype=float)
            p = np.exp(logp - logp.max())
            return float(scores @ p / p.sum())
    return math.nan


class _Aggregator(Strategy):
    """Shared part: N samples per row from the backend, then ``_aggregate`` with the judge.

    ``max_tokens`` caps every text a row holds: the N samples and, for fusion and self-moa, the
    judge's written answer.

    Parameters:
        n_candidates: N, the samples aggregated into each row.
        temperature: sampling temperature of the N samples.
        judge: the judge / fusor / aggregator Backend (library only; default: the generating backend).
        judge_temperature: temperature of the judge's calls.
        max_tokens: token cap of the samples and of the written answer (fusion, self-moa).
    """

    def __init__(self, n_candidates: int = 4, temperature: float = 0.7, judge: Backend | None = None,
                 judge_temperature: float = 0.0, max_tokens: int = 1024):
        if n_candidates < 1 or max_tokens < 1:
            raise UsageError(f"n_candidates and max_tokens must be >= 1, got {n_candidates} and {max_tokens}")
        if judge is not None and not isinstance(judge, Backend):
            raise UsageError(f"judge must be a Backend object (from Python), got {judge!r}; on the command line "
                             "the generating backend judges")
        self.n_candidates, self.temperature, self.judge_temperature = n_candidates, temperature, judge_temperature
        self.max_tokens = max_tokens
        self.judge = "same" if judge is None else f"{judge.name}:{judge.model}"
        self._judge = judge

    def run(self, backend: Backend, prompt: str, n: int, seed: int) -> list[dict[str, Any]]:
        judge = self._judge or backend
        if "chat" not in judge.capabilities:
            raise UsageError(f"strategy '{self.name}' needs a judge with chat; '{judge.name}' ({judge.model}) "
                             "has none")
        user = [{"role": "user", "content": prompt}]
        candidates = chat(backend, [user] * n, seeds=[sub_seed(seed, 0, i) for i in range(n)], n=self.n_candidates,
                          temperature=self.temperature, max_tokens=self.max_tokens)
        return self._aggregate(judge, prompt, candidates, seed)

    def _aggregate(self, judge: Backend, prompt: str, candidates: list[list[str]],
                   seed: int) -> list[dict[str, Any]]:  # pragma: no cover
        raise NotImplementedError(f"{type(self).__name__} must implement _aggregate")

    def _judge_chat(self, judge: Backend, convs: Sequence[Messages], seed: int, stage: int,
                    max_tokens: int) -> list[str]:
        replies = chat(judge, convs, seeds=[sub_seed(seed, stage, i) for i in range(len(convs))],
                       temperature=self.judge_temperature, max_tokens=max_tokens)
        return [r[0] for r in replies]


def _row(text: str, candidates: list[str], score: float | None = None, **extra: Any) -> dict[str, Any]:
    return {"text": text, "judge_score": score, "candidates": list(candidates), **extra}


@register_strategy
class BestOfN(_Aggregator):
    """Best-of-N: y* = argmax_i r(x, y_i) over N samples, r a judge's 1-9 score (ties: the first sample).

    The judge reads the instruction and one response and answers with a number. With
    ``judge_mode="logprobs"`` (or ``"auto"`` on a judge offering ``top_logprobs``) r is the expected
    label score E[s] = sum_s s p(s) over the digits 1-9 at the answer position; otherwise the number
    is parsed from the reply (:func:`parse_score`). A candidate whose score cannot be read ranks last;
    when no candidate of a row has a score a QuadivError is raised. Rows: ``judge_score`` = r(y*),
    ``candidates`` = the N samples. GENERATION.md sec. 5(a) (the selection baseline of Khairi et al.
    2025, "Making, not Taking, the Best of N").

    Parameters:
        judge_mode: auto (logprobs when the judge has top_logprobs, else text), text or logprobs.
        judge_max_tokens: token cap of the judge's reply in text mode (it is read, never written).
    """

    name = "best-of-n"

    def __init__(self, judge_mode: str = "auto", judge_max_tokens: int = 2048, **params: Any):
        if judge_mode not in _JUDGE_MODES:
            raise UsageError(f"judge_mode must be one of {', '.join(_JUDGE_MODES)}, got '{judge_mode}'")
        super().__init__(**params)
        self.judge_mode, self.judge_max_tokens = judge_mode, judge_max_tokens

    @property
    def requires(self) -> frozenset[str]:  # type: ignore[override]
        """Chat; top_logprobs too when the backend itself judges with logprobs."""
        extra = {"top_logprobs"} if self.judge_mode == "logprobs" and self._judge is None else set()
        return frozenset({"chat", *extra})

    def _aggregate(self, judge: Backend, prompt: str, candidates: list[list[str]], seed: int) -> list[dict[str, Any]]:
        flat = [c for row in candidates for c in row]
        scores = iter(self.score(judge, prompt, flat, seed))
        rows = []
        for cands in candidates:
            values = np.array([next(scores) for _ in cands])
            if np.isnan(values).all():
                raise QuadivError(f"best-of-n: the judge's replies held no score for any of {len(cands)} candidates; "
                                  "use a judge model that follows the 'answer with a number' instruction")
            best = int(np.nanargmax(values))
            rows.append(_row(cands[best], cands, float(values[best])))
        return rows

    def score(self, judge: Backend, prompt: str, responses: Sequence[str], seed: int) -> list[float]:
        """The judge's score of each response to the prompt, on 1-9 (NaN where unreadable)."""
        use_logprobs = self.judge_mode == "logprobs" or (
            self.judge_mode == "auto" and "top_logprobs" in judge.capabilities)
        if use_logprobs and "top_logprobs" not in judge.capabilities:
            raise UsageError(f"best-of-n judge_mode='logprobs' needs a judge with top_logprobs; '{judge.name}' "
                             f"({judge.model}) has none: use judge_mode='text'")
        convs = [self.judge_messages(prompt, r) for r in responses]
        if not use_logprobs:
            return [parse_score(t) for t in self._judge_chat(judge, convs, seed, 1, self.judge_max_tokens)]
        requests = [GenRequest(messages=c, temperature=self.judge_temperature, max_tokens=8, logprobs=20,
                               seed=sub_seed(seed, 1, i)) for i, c in enumerate(convs)]
        scores = []
        for (completion,) in judge.generate(requests):
            value = expected_label_score(completion)
            scores.append(parse_score(completion.text) if math.isnan(value) else value)
        return scores

    @staticmethod
    def judge_messages(prompt: str, response: str) -> Messages:
        """Instruction + one response; asks for a 1-9 quality score, the number only."""
        lo, hi = SCALE
        return [{"role": "user", "content": (
            f"Rate how well the response answers the instruction: helpfulness, correctness, depth and clarity.\n\n"
            f"[Instruction]\n{prompt}\n\n[Response]\n{response}\n\nAnswer with one number from {lo} (very poor) to "
            f"{hi} (excellent) and nothing else.")}]


@register_strategy
class FusionOfN(_Aggregator):
    """Fusion-of-N: a fusor model reads the N samples and writes one answer, y* = F(x, {y_i}).

    The fusor gets the instruction, then the candidates as labelled blocks in a seeded random order
    (against position bias), and is told to synthesise one final answer that keeps the most
    informative and correct parts and fixes their errors, answer only. ``judge_score`` is None.
    Khairi, D'souza, Fadaee, Kreutzer, 2025, "Making, not Taking, the Best of N" (arXiv 2510.00931),
    method section (FusioN); GENERATION.md sec. 5(a).
    """

    name = "fusion"

    def _aggregate(self, judge: Backend, prompt: str, candidates: list[list[str]], seed: int) -> list[dict[str, Any]]:
        orders = [np.random.default_rng(sub_seed(seed, 2, i)).permutation(len(c)) for i, c in enumerate(candidates)]
        convs = [self.fusor_messages(prompt, [c[j] for j in order])
                 for c, order in zip(candidates, orders, strict=True)]
        fused = self._judge_chat(judge, convs, seed, 1, self.max_tokens)
        return [_row(text, cands) for text, cands in zip(fused, candidates, strict=True)]

    @staticmethod
    def fusor_messages(prompt: str, candidates: Sequence[str]) -> Messages:
        """Instructions, the original prompt, the labelled candidates, the request for one answer."""
        blocks = "\n\n".join(f"[Candidate {i}]\n{c}" for i, c in enumerate(candidates, start=1))
        return [{"role": "user", "content": (
            f"You are given an instruction and {len(candidates)} candidate responses to it. Synthesise one final "
            "response that combines the most informative and correct parts of the candidates and fixes their "
            "errors. Output only the final response, without mentioning the candidates.\n\n"
            f"[Instruction]\n{prompt}\n\n{blocks}")}]


@register_strategy
class SelfMoA(_Aggregator):
    """Self-MoA: N samples of one model aggregated by a model told to synthesise its "references".

    The aggregator (MoA's aggregate-and-synthesise prompt: the references go in the system message,
    the instruction is the user message) writes one refined answer. With ``window`` W < N it runs
    Self-MoA-Seq: aggregate the first W samples, then repeatedly aggregate the running synthesis with
    the next W - 1 samples, so each call sees at most W texts (1 + ceil((N - W) / (W - 1)) aggregator
    calls per row). Rows: ``candidates``, ``aggregation_rounds``; ``judge_score`` is None.
    Li, Lin, Xia, Jin, 2025, "Rethinking Mixture-of-Agents: Is Mixing Different Large Language Models
    Beneficial?", Self-MoA and Self-MoA-Seq sections; prompt after Wang et al. 2024 (Mixture-of-Agents,
    togethercomputer/MoA ``utils.py``); GENERATION.md sec. 5(a).

    Parameters:
        window: W, the most texts one aggregator call sees (Self-MoA-Seq); default all N at once.
    """

    name = "self-moa"

    def __init__(self, window: int | None = None, **params: Any):
        if window is not None and window < 2:
            raise UsageError(f"window must be >= 2 (the running synthesis plus a new sample), got {window}")
        super().__init__(**params)
        self.window = window

    def _aggregate(self, judge: Backend, prompt: str, candidates: list[list[str]], seed: int) -> list[dict[str, Any]]:
        width = self.window or max(len(c) for c in candidates)
        current: list[str | None] = [None] * len(candidates)
        offsets = [0] * len(candidates)
        rounds = 0
        while any(off < len(c) for off, c in zip(offsets, candidates, strict=True)):
            active = [i for i, c in enumerate(candidates) if offsets[i] < len(c)]
            batches = []
            for i in active:
                take = width if current[i] is None else width - 1
                refs = ([] if current[i] is None else [current[i]]) + candidates[i][offsets[i]:offsets[i] + take]
                offsets[i] += take
                batches.append(self.aggregator_messages(prompt, refs))
            replies = self._judge_chat(judge, batches, sub_seed(seed, 3, rounds), 1, self.max_tokens)
            for i, text in zip(active, replies, strict=True):
                current[i] = text
            rounds += 1
        return [_row(text or "", cands, aggregation_rounds=rounds)
                for text, cands in zip(current, candidates, strict=True)]

    @staticmethod
    def aggregator_messages(prompt: str, references: Sequence[str]) -> Messages:
        """References listed in the system message; the instruction as the user message."""
        listed = "\n".join(f"{i}. {r}" for i, r in enumerate(references, start=1))
        return [{"role": "system", "content": (
            "You have been provided with a set of responses to the latest user query. Synthesise them into a single, "
            "high-quality response. Critically evaluate the information they provide, recognising that some of it "
            "may be biased or incorrect. Do not simply copy the given answers; offer a refined, accurate and "
            "comprehensive reply to the instruction.\n\nResponses:\n" + listed)},
            {"role": "user", "content": prompt}]
