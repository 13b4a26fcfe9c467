"""``judge:<model>``: an LLM judge through quadiv's generation backends (QUALITY.md §3).

Four modes. ``score`` (G-Eval, Liu et al. 2023, arXiv 2303.16634, Eq. 1; DEITA's scorers): the expected
label, sum_k k p(k) over the labels 1..scale, from the top logprobs at the answer token, every spelling of a
label (``"5"``, ``" 5"``) summed and the distribution renormalised over the labels; the mass that fell on
labels is reported. ``yesno`` (QDAIF, Bradley et al. 2023, arXiv 2310.13032, §3): p(yes) / (p(yes) + p(no)).
``pairwise`` (AlpacaEval's ``weighted_alpaca_eval_gpt4_turbo`` logprob parser): p(the response beats a
reference), asked in both orders and averaged to cancel position bias. ``prometheus`` (Kim et al. 2024,
arXiv 2405.01535; ``prometheus_eval/prompts.py`` and ``parser.py``): absolute grading with a rubric, feedback
then ``[RESULT] n``, parsed from sampled replies. Without top logprobs from the backend, ``score``, ``yesno``
and ``pairwise`` fall back to the mean of parsed sampled replies and say so (``judge_sampled``). A reply with
no label is NaN and counted (``judge_unparsed``), never a silent 0.
"""
from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from quadiv.errors import InputError, UsageError
from quadiv.quality._base import Item, Scores, register_scorer

MODES = ("score", "yesno", "pairwise", "prometheus")
TEMPLATES = {
    "score": "Rate the quality of the response to the instruction on a scale of 1 to {scale}, where 1 is very "
             "poor and {scale} is excellent: helpful, correct, clear and complete.\n\n#Instruction#:\n{instruction}"
             "\n\n#Response#:\n{response}\n\nAnswer with the score only.\nScore:",
    "yesno": "Is the response below a high-quality answer to the instruction (helpful, correct, clear)?\n\n"
             "#Instruction#:\n{instruction}\n\n#Response#:\n{response}\n\nAnswer with yes or no only.\nAnswer:",
    "pairwise": "Which response answers the instruction better: more helpful, correct and clear?\n\n"
                "#Instruction#:\n{instruction}\n\n#Response A#:\n{first}\n\n#Response B#:\n{second}\n\n"
                "Answer with the letter A or B only.\nBetter response:",
    "prometheus": "###Task Description:\nAn instruction (might include an Input inside it), a response to evaluate, "
                  "and a score rubric representing an evaluation criterion are given.\n1. Write a detailed feedback "
                  "that assesses the quality of the response strictly based on the given score rubric, not "
                  "evaluating in general.\n2. After writing a feedback, write a score that is an integer between 1 "
                  "and 5. You should refer to the score rubric.\n3. The output format should look as follows: "
                  "\"(write a feedback for criteria) [RESULT] (an integer number between 1 and 5)\"\n4. Please do "
                  "not generate any other opening, closing, and explanations.\n\n###The instruction to evaluate:\n"
                  "{instruction}\n\n###Response to evaluate:\n{response}\n\n###Score Rubrics:\n[Is the response "
                  "helpful, correct and clear for the instruction?]\nScore 1: The response is unhelpful or wrong.\n"
                  "Score 2: The response is mostly unhelpful, with major errors.\nScore 3: The response is partly "
                  "helpful, with some errors or gaps.\nScore 4: The response is helpful and mostly correct and "
                  "clear.\nScore 5: The response is fully helpful, correct and clear.\n\n###Feedback: ",
}
# What a replacement prompt must hold; {instruction} is optional (a story or a web page has none).
PLACEHOLDERS = {"score": ("{response}",), "yesno": ("{response}",), "pairwise": ("{first}", "{second}"),
                "prometheus": ("{response}",)}
# Prometheus' parser: [RESULT], [SCORE], Score:, Result: or 'score of' and an integer 1-5 near the end.
_PROMETHEUS = re.compile(r"(?:\[RESULT\]|\[SCORE\]|Score:|Result:|score of)\s*\(?\s*([1-5])(?:\s*/\s*5|\s*out of 5)?"
                         r"\s*\)?\s*\W*$", re.IGNORECASE)
_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)")


class JudgeScorer:
    """An LLM judge through a generation backend (openai, transformers, vllm): score, yesno, pairwise, prometheus.

    Columns: ``judge_label_mass`` (probability on the labels at the answer token; NaN when sampled),
    ``judge_sampled`` (True where the score is the mean of sampled replies), ``judge_unparsed`` (True where
    no reply gave a label: the score is NaN).

    Parameters:
        mode: score (expected label 1..scale), yesno (p(yes)), pairwise (p(beats the reference), both orders)
            or prometheus (rubric grading, feedback then [RESULT] n).
        backend: the generation backend: openai (any OpenAI-compatible server), transformers or vllm.
        base_url: the server's base URL (openai backend).
        template: a prompt file replacing the mode's own; {response} ({first} and {second} for pairwise),
            {instruction} and {scale} are replaced.
        prompt: the replacing prompt's text itself, instead of a template file.
        scale: the highest label of the score mode.
        samples: replies sampled per item without logprobs, and for prometheus.
        temperature: sampling temperature of those replies.
        top_logprobs: alternatives asked for at each token (OpenAI allows at most 20).
        max_tokens: reply length (default: 4 for labels, 512 for prometheus).
        capabilities: comma list of what the server offers, skipping the openai backend's probe.
        concurrency: requests in flight (openai backend).
        seed: seed of the sampled replies.
    """

    column, higher_is_better, needs_instruction = "judge", True, True

    def __init__(self, model: str, mode: str = "score", backend: str = "openai", base_url: str | None = None,
                 template: str | None = None, prompt: str | None = None, scale: int = 5, samples: int = 5, temperature: float = 1.0,
                 top_logprobs: int = 20, max_tokens: int | None = None, capabilities: str | None = None,
                 concurrency: int = 8, seed: int = 0):
        if mode not in MODES:
            raise UsageError(f"the judge mode must be one of {', '.join(MODES)}, got '{mode}'")
        if scale < 2 or samples < 1 or top_logprobs < 1:
            raise UsageError(f"the judge needs scale >= 2, samples >= 1 and top_logprobs >= 1; got {scale}, "
                             f"{samples}, {top_logprobs}")
        self.mode, self.scale, self.samples, self.temperature = mode, scale, samples, temperature
        self.top_logprobs, self.seed = top_logprobs, seed
        self.max_tokens = max_tokens or (512 if mode == "prometheus" else 4)
        if template is not None and prompt is not None:
            raise UsageError("give the judge a `template` file or a `prompt` text, not both")
        self.template = (_check_template(prompt, mode, "the judge prompt") if prompt is not None
                         else _template(template, mode)).replace("{scale}", str(scale))
        self.needs_reference = mode == "pairwise"
        self.batch_size = 64
        from quadiv.generate import make_backend

        caps = [c.strip() for c in capabilities.split(",") if c.strip()] if capabilities else None
        self._backend = make_backend(backend, model, {}, base_url=base_url, concurrency=concurrency,
                                     capabilities=caps)
        digest = hashlib.sha256(self.template.encode()).hexdigest()[:12]
        self.name = (f"judge({backend}:{model}@{base_url or ''};mode={mode},scale={scale},template={digest},"
                     f"samples={samples},temperature={temperature},max_tokens={self.max_tokens},seed={seed})")

    @property
    def reads_logprobs(self) -> bool:
        """True when judgements come from label probabilities; False when from sampled replies."""
        return self.mode != "prometheus" and "top_logprobs" in self._backend.capabilities

    @property
    def backend(self):
        """The generation backend the judge asks."""
        return self._backend

    @property
    def labels(self) -> list[str]:
        """The answers the mode counts, in the order of their values."""
        return {"score": [str(k) for k in range(1, self.scale + 1)], "yesno": ["no", "yes"],
                "pairwise": ["a", "b"], "prometheus": []}[self.mode]

    def score(self, items: Sequence[Item]) -> Scores:
        """One judgement per item (both orders averaged for pairwise), with label mass and fallback flags."""
        if self.needs_reference and any(it.reference is None for it in items):
            raise UsageError("the pairwise judge compares each response with a reference response: name the "
                             "column that holds them (`reference_field`)")
        prompts = [p for it in items for p in self._prompts(it)]
        per_item = len(prompts) // max(len(items), 1)
        use_logprobs = self.reads_logprobs
        results = [self._read(c, use_logprobs) for c in self._ask(prompts, use_logprobs)]
        values, mass, sampled = np.full(len(items), np.nan), np.full(len(items), np.nan), np.zeros(len(items), bool)
        for i in range(len(items)):
            parts = results[i * per_item:(i + 1) * per_item]
            if self.mode == "pairwise":  # order 1: the response is A; order 2: it is B
                parts = [parts[0], (1 - parts[1][0], parts[1][1], parts[1][2])]
            known = [p for p in parts if not math.isnan(p[0])]
            if known:
                values[i] = float(np.mean([p[0] for p in known]))
            masses = [p[1] for p in parts if not math.isnan(p[1])]
            mass[i] = float(np.mean(masses)) if masses else np.nan
            sampled[i] = any(p[2] for p in parts)
        return Scores(values, {"judge_label_mass": mass, "judge_sampled": sampled,
                               "judge_unparsed": np.isnan(values)})

    def _prompts(self, item: Item) -> list[str]:
        fill = self.template.replace("{instruction}", item.instruction or "")
        if self.mode == "pairwise":
            return [fill.replace("{first}", item.text).replace("{second}", item.reference),
                    fill.replace("{first}", item.reference).replace("{second}", item.text)]
        return [fill.replace("{response}", item.text)]

    def _ask(self, prompts: list[str], use_logprobs: bool):
        from quadiv.generate import GenRequest

        n = 1 if use_logprobs else self.samples
        requests = [GenRequest(messages=[{"role": "user", "content": p}], n=n, max_tokens=self.max_tokens,
                               temperature=self.temperature, seed=self.seed + i,
                               logprobs=self.top_logprobs if use_logprobs else None)
                    for i, p in enumerate(prompts)]
        return self._backend.generate(requests)

    def _read(self, completions, use_logprobs: bool) -> tuple[float, float, bool]:
        """(value, label mass, sampled) of one prompt's completions; NaN value when none gave a label."""
        if use_logprobs and completions and completions[0].top_logprobs is not None:
            value, mass = self._expectation(completions[0].top_logprobs)
            return value, mass, False
        parsed = [v for v in (self._parse(c.text) for c in completions) if not math.isnan(v)]
        return (float(np.mean(parsed)) if parsed else math.nan), math.nan, True

    def _expectation(self, positions: list[dict[str, float]]) -> tuple[float, float]:
        """At the first token whose likeliest alternative is a label: (expected value, label mass)."""
        labels = self.labels
        for top in positions:
            if not top:
                continue
            best = max(top, key=top.get)
            if best.strip().lower() not in labels:
                continue
            p = np.zeros(len(labels))
            for token, logprob in top.items():
                key = token.strip().lower()
                if key in labels:
                    p[labels.index(key)] += math.exp(logprob)
            mass = float(p.sum())
            return self._value(p / mass), mass
        return math.nan, 0.0

    def _value(self, p: np.ndarray) -> float:
        """The judgement from a distribution over :attr:`labels`."""
        if self.mode == "score":
            return float(p @ np.arange(1, self.scale + 1))
        return float(p[1]) if self.mode == "yesno" else float(p[0])  # pairwise: p(A)

    def _parse(self, reply: str) -> float:
        """A sampled reply's judgement, NaN when it holds no label."""
        if self.mode == "prometheus":
            found = _PROMETHEUS.search(reply.strip())
            return float(found.group(1)) if found else math.nan
        if self.mode == "score":
            found = _NUMBER.match(reply)
            value = float(found.group(1)) if found else math.nan
            return value if 1 <= value <= self.scale else math.nan
        word = reply.strip().lower().lstrip("*#(\"' ")[:3]
        if self.mode == "yesno":
            return 1.0 if word.startswith("yes") else 0.0 if word.startswith("no") else math.nan
        return 1.0 if word[:1] == "a" else 0.0 if word[:1] == "b" else math.nan


def _template(path: str | None, mode: str) -> str:
    """The prompt of ``mode``: the file at ``path`` (checked for the mode's placeholders), else the built-in one."""
    if path is None:
        return TEMPLATES[mode]
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
    except OSError as err:
        raise InputError(f"cannot read the judge template: {err.strerror or err}", path=str(path),
                         fix="give a text file with the prompt") from None
    return _check_template(text, mode, f"the judge template {path}")


def _check_template(text: str, mode: str, what: str) -> str:
    missing = [p for p in PLACEHOLDERS[mode] if p not in text]
    if missing:
        raise UsageError(f"{what} lacks {', '.join(missing)}, which the {mode} mode fills in")
    return text


register_scorer("judge", JudgeScorer, argument="a model name")
