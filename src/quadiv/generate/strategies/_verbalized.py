"""Verbalized Sampling: ask for k candidates with their probabilities, then sample from that distribution."""
from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from quadiv.errors import QuadivError, UsageError
from quadiv.generate._base import Backend, Strategy, register_strategy
from quadiv.generate._chat import BULLET, Messages, chat, json_values, sub_seed

_TEXT_KEYS = ("text", "response", "content", "answer", "output")
_WEIGHT_KEYS = ("probability", "prob", "weight", "likelihood", "confidence", "p")
_XML_ITEM = re.compile(r"<response>(.*?)(?:</response>|(?=<response>)|$)", re.DOTALL | re.IGNORECASE)
_XML_TEXT = re.compile(r"<text>(.*?)(?:</text>|(?=<probability>)|$)", re.DOTALL | re.IGNORECASE)
_XML_PROB = re.compile(r"<probability>\s*(.*?)\s*(?:</probability>|$)", re.DOTALL | re.IGNORECASE)
_NUMBER = r"(-?\d+(?:\.\d*)?|-?\.\d+)\s*(%?)"
_LABEL = r"(?:probability|prob|p|weight|likelihood|confidence)"
_WEIGHT_AT_END = [re.compile(p, re.IGNORECASE) for p in (
    r"\(\s*(?:" + _LABEL + r"\s*[:=]?\s*)?" + _NUMBER + r"\s*\)\s*$",      # "text (probability: 0.3)"
    r"\[\s*(?:" + _LABEL + r"\s*[:=]?\s*)?" + _NUMBER + r"\s*\]\s*$",      # "text [35%]"
    r"[\s,;|\-\u2013\u2014]\s*" + _LABEL + r"\s*[:=]\s*" + _NUMBER + r"\s*$",  # "text, probability = 0.3"
    r"\s[|\-\u2013\u2014:]\s*" + _NUMBER + r"\s*$",                            # "text - 0.3", "text: 35%"
)]
_WEIGHT_AT_START = re.compile(r"^[(\[]\s*(?:" + _LABEL + r"\s*[:=]?\s*)?" + _NUMBER + r"\s*[)\]]\s*[:\-]?\s*",
                              re.IGNORECASE)                                                    # "[0.3] text"
_LABELLED_LINE = re.compile(r"^\s*[(\[]?\s*" + _LABEL + r"\s*[:=]\s*" + _NUMBER + r"\s*[)\]]?\s*$", re.IGNORECASE)


def parse_candidates(reply: str) -> list[tuple[str, Any]]:
    """(text, raw weight or None) pairs from a reply: JSON, fenced JSON, ``<response>`` tags or a list.

    JSON: an object whose ``responses`` (or any list) holds objects with a text key (``text``,
    ``response``, ...) and a weight key (``probability``, ``confidence``, ...) or bare strings; a
    list of such objects; complete objects salvaged from truncated JSON. Tags: the paper's
    ``<response><text>..</text><probability>..</probability></response>``. Lists: numbered or
    bulleted lines whose probability is written inline ("(probability: 0.3)", "[35%]", "- 0.2") or on
    the next line ("Probability: 0.3"). Entries without a text are dropped; nothing parseable gives [].
    """
    for value in json_values(reply):
        items = _json_items(value)
        if items:
            return items
    tagged = _xml_items(reply)
    return tagged if tagged else _list_items(reply)


def _json_items(value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        if any(k in value for k in _TEXT_KEYS):
            value = [value]
        else:
            value = value.get("responses", next((v for v in value.values() if isinstance(v, list)), []))
    if not isinstance(value, list):
        return []
    items = []
    for entry in value:
        if isinstance(entry, str):
            items.append((entry, None))
        elif isinstance(entry, dict):
            text = next((entry[k] for k in _TEXT_KEYS if entry.get(k) is not None), None)
            if isinstance(text, (str, int, float)) and not isinstance(text, bool):
                items.append((str(text), next((entry[k] for k in _WEIGHT_KEYS if k in entry), None)))
    return [(t.strip(), w) for t, w in items if t.strip()]


def _xml_items(reply: str) -> list[tuple[str, Any]]:
    items = []
    for block in _XML_ITEM.findall(reply):
        text = _XML_TEXT.search(block)
        prob = _XML_PROB.search(block)
        body = (text.group(1) if text else _XML_PROB.sub("", block)).strip()
        if body:
            items.append((body, prob.group(1) if prob else None))
    return items


def _list_items(reply: str) -> list[tuple[str, Any]]:
    items: list[list[Any]] = []
    for line in reply.replace("**", "").splitlines():
        bullet = BULLET.match(line)
        labelled = _LABELLED_LINE.match(line)
        if bullet:
            items.append(list(_split_weight(bullet.group(1))))
        elif labelled and items and items[-1][1] is None:
            items[-1][1] = labelled.group(1) + labelled.group(2)
        elif items and line.strip() and items[-1][1] is None:
            body, items[-1][1] = _split_weight(line)
            items[-1][0] += "\n" + body
    return [(t.strip().strip('"').strip(), w) for t, w in items if t.strip().strip('"').strip()]


def _split_weight(body: str) -> tuple[str, str | None]:
    """Cut a probability annotation off the end (or start) of a list item: (text, raw weight)."""
    for pattern in _WEIGHT_AT_END:
        m = pattern.search(body)
        if m:
            return body[:m.start()].rstrip(" \t:-\u2013\u2014|,;").strip(), m.group(1) + m.group(2)
    m = _WEIGHT_AT_START.match(body)
    if m:
        return body[m.end():].strip(), m.group(1) + m.group(2)
    return body.strip(), None


@dataclass(frozen=True)
class Candidate:
    """One verbalized candidate: its text, normalised probability within the reply, and repairs made."""

    text: str
    probability: float
    raw_weight: Any
    repairs: tuple[str, ...] = ()


def _read_weight(raw: Any) -> tuple[float | None, bool, str | None]:
    """(value, written as a percentage, repair note) for one raw weight."""
    if raw is None:
        return None, False, "missing weight"
    if isinstance(raw, bool):
        return None, False, f"invalid weight {raw!r}"
    if isinstance(raw, (int, float)):
        value, percent = float(raw), False
    else:
        m = re.search(_NUMBER, str(raw))
        if m is None:
            return None, False, f"invalid weight {raw!r}"
        value, percent = float(m.group(1)), bool(m.group(2))
    if not math.isfinite(value) or value < 0:
        return None, False, f"invalid weight {raw!r}"
    return (value / 100.0 if percent else value), percent, ("percentage" if percent else None)


def normalise_candidates(items: Sequence[tuple[str, Any]], tau: float = 0.0,
                         min_survivors: int = 1) -> list[Candidate]:
    """Repair weights onto one probability scale, merge duplicates, keep p >= tau, normalise to sum 1.

    Weights: "35%" strings are percentages. Bare numbers share one scale per reply: all <= 1 are
    probabilities; a maximum in (1, 100] means percentages (35 -> 0.35); above 100 they are unnormalised
    scores divided by their sum. Ratios are never clipped (the reference clips values above 1 to 1,
    which distorts them). Missing, negative or non-numeric weights get the mean of the valid ones
    (all missing: uniform). Texts equal up to case and whitespace are merged and their weights added.
    ``tau`` drops candidates whose repaired weight is below it, keeping at least the ``min_survivors``
    heaviest (the reference's ``tau``/``min_k_survivors``). Final p_i = w_i / sum_j w_j (uniform when
    every weight is 0). Zhang et al. 2025, Verbalized Sampling, sec. 3; GENERATION.md sec. 3(a).
    """
    read = [_read_weight(w) for _, w in items]
    bare = [v for v, pct, _ in read if v is not None and not pct]
    scale, note = 1.0, None
    if bare and max(bare) > 1.0:
        scale, note = (0.01, "percent scale") if max(bare) <= 100.0 else (1.0 / sum(bare), "score scale")
    weights = [None if v is None else (v if pct else v * scale) for v, pct, _ in read]
    valid = [w for w in weights if w is not None]
    fill = sum(valid) / len(valid) if valid else 1.0
    merged: dict[str, list[Any]] = {}
    for (text, raw), w, (value, pct, repair) in zip(items, weights, read, strict=True):
        notes = [r for r in (repair, None if pct or value is None else note) if r]
        if w is None:
            w, notes = fill, notes + ["weight filled with the mean"]
        key = " ".join(text.split()).casefold()
        if key in merged:
            merged[key][1] += w
            merged[key][3] += ["duplicate merged"]
        else:
            merged[key] = [text, w, raw, notes]
    entries = sorted(merged.values(), key=lambda e: -e[1])
    kept = [e for e in entries if e[1] >= tau]
    if len(kept) < min(min_survivors, len(entries)):
        kept = entries[:min_survivors]
    total = sum(e[1] for e in kept)
    return [Candidate(text, w / total if total > 0 else 1.0 / len(kept), raw, tuple(notes))
            for text, w, raw, notes in kept]


_DEFINITIONS = {
    "explicit": "the probability of this response relative to the full distribution of possible responses "
                "(0.0 to 1.0)",
    "implicit": "how likely this response would be (0.0 to 1.0)",
    "relative": "the probability of this response relative to the other responses in the list "
                "(0.0 to 1.0; they sum to 1)",
    "percentage": "the percentage of all possible responses that would be this response (0 to 100%)",
    "confidence": "a typicality score: how typical this response is (0.0 to 1.0)",
}
_VARIANTS = ("standard", "cot", "multi")


@register_strategy
class VerbalizedSampling(Strategy):
    """Verbalized Sampling: the model writes k responses with probabilities; rows are drawn from them.

    Each reply is parsed (:func:`parse_candidates`) and its weights repaired and normalised
    (:func:`normalise_candidates`) into a distribution p over its candidates; ``rows_per_call`` rows
    are drawn from p without replacement (seeded), so P(row = candidate i) = p_i when
    ``rows_per_call`` = 1 (the default, as ``verbalize().sample()``); ``rows_per_call`` = k uses every
    candidate, the paper's N/k-call setting. Variants (GENERATION.md sec. 3(a)): ``standard`` (one
    call, k candidates), ``cot`` (a ``reasoning`` field before the list), ``multi`` (a conversation:
    the first turn announces k in total and asks for ``k_turn``, each later turn asks for ``k_turn``
    alternatives with the history kept; ceil(k / k_turn) turns; the distribution pools all turns).
    ``max_probability`` is the tail directive (every probability below it; the reference's
    ``probability_tuning``). A JSON schema is sent as ``extra["response_format"]`` when the backend
    offers ``structured_output``. Replies that parse to nothing are re-asked for up to ``retries``
    extra rounds, then a QuadivError is raised.

    Zhang, Yu, Chong, Sicilia, Tomz, Manning, Shi, 2025, "Verbalized Sampling: How to Mitigate Mode
    Collapse and Unlock LLM Diversity", sec. 4 (method) and the VS-Standard/CoT/Multi prompts of its
    appendix; defaults from the reference ``verbalize()`` (k = 5, temperature 0.9, retries 2), except
    ``tau`` = 0 (the reference's 0.12 drops low-probability candidates, i.e. the diverse tail).

    Parameters:
        k: candidates asked for per call.
        variant: standard, cot (reasoning first) or multi (several turns).
        probability_definition: how the prompt defines a probability: explicit, implicit, relative, percentage or confidence.
        tau: candidates whose probability is below tau are dropped (0: keep all).
        min_survivors: candidates kept at least, whatever tau.
        rows_per_call: rows drawn from one reply's candidates (1 to k).
        k_turn: candidates asked for per turn (variant multi).
        max_probability: tail directive: every candidate's probability below this (None: off).
        temperature: sampling temperature of the calls.
        top_p: nucleus mass of the calls.
        max_tokens: token cap of a reply (which holds all k candidates).
        retries: extra rounds for replies that parse to nothing.
    """

    name = "verbalized"

    def __init__(self, k: int = 5, variant: str = "standard", probability_definition: str = "explicit",
                 tau: float = 0.0, min_survivors: int = 1, rows_per_call: int = 1, k_turn: int = 2,
                 max_probability: float | None = None, temperature: float = 0.9, top_p: float = 1.0,
                 max_tokens: int = 4096, retries: int = 2):
        if variant not in _VARIANTS:
            raise UsageError(f"variant must be one of {', '.join(_VARIANTS)}, got '{variant}'")
        if probability_definition not in _DEFINITIONS:
            raise UsageError(f"probability_definition must be one of {', '.join(_DEFINITIONS)}, "
                             f"got '{probability_definition}'")
        if k < 1 or k_turn < 1 or not 1 <= rows_per_call <= k:
            raise UsageError(f"need k >= 1, k_turn >= 1 and 1 <= rows_per_call <= k; got k={k}, "
                             f"k_turn={k_turn}, rows_per_call={rows_per_call}")
        if max_probability is not None and not 0 < max_probability <= 1:
            raise UsageError(f"max_probability must lie in (0, 1], got {max_probability}")
        self.k, self.variant, self.probability_definition = k, variant, probability_definition
        self.tau, self.min_survivors, self.rows_per_call, self.k_turn = tau, min_survivors, rows_per_call, k_turn
        self.max_probability, self.temperature, self.top_p = max_probability, temperature, top_p
        self.max_tokens, self.retries = max_tokens, retries

    def run(self, backend: Backend, prompt: str, n: int, seed: int) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        calls = 0
        for _ in range(self.retries + 1):
            if len(rows) >= n:
                break
            need = math.ceil((n - len(rows)) / self.rows_per_call)
            for i, items in enumerate(self._ask(backend, prompt, [sub_seed(seed, calls + j) for j in range(need)])):
                cands = normalise_candidates(items, self.tau, self.min_survivors) if items else []
                take = min(self.rows_per_call, n - len(rows), sum(c.probability > 0 for c in cands))
                rows += self._draw(cands, take, sub_seed(seed, calls + i, 1))
            calls += need
        if len(rows) < n:
            raise QuadivError(f"verbalized sampling got {len(rows)} of {n} rows after {calls} calls: the model's "
                              "replies held no parseable candidates; raise max_tokens, use a stronger model "
                              "or a server with structured output (vLLM's; declare it with --capabilities "
                              "structured_output if its probe was refused)")
        return rows

    def _draw(self, cands: list[Candidate], take: int, seed: int) -> list[dict[str, Any]]:
        if take <= 0:
            return []
        p = np.array([c.probability for c in cands])
        picks = np.random.default_rng(seed).choice(len(cands), size=take, replace=False, p=p / p.sum())
        return [{"text": cands[i].text, "probability": cands[i].probability, "variant": self.variant,
                 "candidates_k": len(cands)} for i in picks]

    def _ask(self, backend: Backend, prompt: str, seeds: list[int]) -> list[list[tuple[str, Any]]]:
        """One list of (text, raw weight) per call (a call is a whole conversation for ``multi``)."""
        extra = {"response_format": self._schema()} if "structured_output" in backend.capabilities else None
        options = {"temperature": self.temperature, "top_p": self.top_p, "max_tokens": self.max_tokens,
                   "extra": extra}
        if self.variant != "multi":
            convs = [self._messages(prompt)] * len(seeds)
            return [parse_candidates(r[0]) for r in chat(backend, convs, seeds=seeds, **options)]
        convs = [self._messages(prompt) for _ in seeds]
        items: list[list[tuple[str, Any]]] = [[] for _ in seeds]
        for turn, count in enumerate(self._turn_sizes()):
            if turn:
                for conv in convs:
                    conv.append({"role": "user", "content": self.continue_prompt(count)})
            replies = chat(backend, convs, seeds=[sub_seed(s, turn) for s in seeds], **options)
            for conv, found, reply in zip(convs, items, replies, strict=True):
                conv.append({"role": "assistant", "content": reply[0]})
                found += parse_candidates(reply[0])
        return items

    def _messages(self, prompt: str) -> Messages:
        return [{"role": "system", "content": self.system_prompt()}, {"role": "user", "content": prompt}]

    def _turn_sizes(self) -> list[int]:
        return [min(self.k_turn, self.k - start) for start in range(0, self.k, self.k_turn)]

    def system_prompt(self) -> str:
        """The system message: task, format (JSON with text + probability), sampling directive."""
        first = self._turn_sizes()[0] if self.variant == "multi" else self.k
        if self.variant == "multi":
            task = (f"You will generate {self.k} different responses to the user's input in total, over several "
                    f"turns. In this turn, generate the first {first} of them.")
        else:
            task = f"Generate {self.k} different responses to the user's input."
        reasoning = ('First fill a "reasoning" field with your step-by-step thinking about the range of possible '
                     'responses; then give ' if self.variant == "cot" else "Give ")
        fmt = (f'{reasoning}a "responses" list of {first} objects, each with "text" (the response only, with no '
               f'explanation) and "probability" ({_DEFINITIONS[self.probability_definition]}). Return only the '
               "JSON object.")
        if self.max_probability is None:
            directive = "Sample the responses at random from the full distribution of possible responses."
        else:
            directive = (f"Sample the responses at random from the tails of the distribution, so that the "
                         f"probability of each response is below {self.max_probability}.")
        return f"{task}\n\n{fmt}\n\n{directive}"

    def continue_prompt(self, count: int) -> str:
        """A later ``multi`` turn: ask for ``count`` alternatives in the same format."""
        return (f"Generate {count} alternative responses to the original input, different from all the responses "
                "above, in the same JSON format with their probabilities.")

    def _schema(self) -> dict[str, Any]:
        item = {"type": "object", "properties": {"text": {"type": "string"}, "probability": {"type": "number"}},
                "required": ["text", "probability"]}
        props: dict[str, Any] = {"responses": {"type": "array", "items": item}}
        if self.variant == "cot":
            props = {"reasoning": {"type": "string"}, **props}
        return {"type": "json_schema", "json_schema": {
            "name": "verbalized_sampling",
            "schema": {"type": "object", "properties": props, "required": list(props)}}}
