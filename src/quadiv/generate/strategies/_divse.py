"""DIV-SE and IDIV-SE: diverse (persona, approach) prompts, one call per pair or all pairs in one call."""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from quadiv.errors import QuadivError, UsageError
from quadiv.generate._base import Backend, Strategy, register_strategy
from quadiv.generate._chat import Messages, chat, parse_list, sub_seed

Pair = tuple[str | None, str]
_NAMED = re.compile(r"^\W*(?:approach|persona)\s*\d*\s*[:\-]\s*(.+)$", re.IGNORECASE)
_ANSWER = re.compile(r"^[\W_]*(?:final\s+)?answer\s*[:\uff1a]\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)
_SECTION = re.compile(r"^[\W_]*approach\s+(\d+)\b", re.IGNORECASE | re.MULTILINE)


def elicited_names(reply: str) -> list[str]:
    """Names from an elicitation reply: "Approach: x" / "Persona: x" lines, else a list."""
    named = [m.group(1).strip(" *.") for line in reply.splitlines() if (m := _NAMED.match(line))]
    return [x for x in (named or [s.strip(" *.") for s in parse_list(reply)]) if x]


def extract_answer(text: str) -> str | None:
    """The last "Answer: ..." line of a solution, without markdown emphasis or a final period."""
    found = _ANSWER.findall(text)
    return found[-1].replace("**", "").strip("*_ ").rstrip(".").strip() if found else None


def majority(answers: Sequence[str | None]) -> str | None:
    """The most frequent answer (case, spaces, $ and thousands commas ignored); ties: first seen."""
    keys = [None if a is None else re.sub(r"[\s$,]", "", a).casefold() for a in answers]
    counts = Counter(k for k in keys if k)
    if not counts:
        return None
    best = max(counts.values())
    return next(a for a, k in zip(answers, keys) if k and counts[k] == best)


def _key(name: str) -> str:
    return re.sub(r"[^\w ]", "", " ".join(name.split())).casefold()


@register_strategy
class DivSE(Strategy):
    """DIV-SE: one temperature-0 call per (persona, approach) pair; rows carry the majority-vote answer.

    Approaches, when not given, are elicited as the paper does: ``elicit_repeats`` calls (at
    ``elicit_temperature``) each ask for up to ``approaches_per_call`` named solution approaches for the
    question; the ``n_approaches`` names seen in most replies are kept. Personas, when not given, come
    from one call asking for ``n_personas`` expert personas; "no persona" is always included. The
    paper then keeps the pairs that score best on a labelled validation set; ``quadiv generate`` has
    none, so rows use the pairs in a Latin-square order (row i: approach i mod |A|, persona
    (i mod |A| + i div |A|) mod |P|), which visits all |A||P| pairs before repeating one and varies both
    in the first rows. Pass ``approaches``/``personas`` to fix the chosen pairs (as the paper reuses
    them across a task). The few-shot demo rewriting step is not done (zero-shot CoT, the setting of the
    paper's GPT-4 tables). Prompts ask for step-by-step reasoning and a final "Answer:" line; each row
    has ``approach``, ``persona``, ``answer`` and the ensemble's ``majority_answer``. Elicited names are
    cached per prompt.

    Naik, Chandrasekaran, Yuksekgonul, Palangi, Nushi, 2023/2024, "Diversity of Thought Improves
    Reasoning Abilities of LLMs" (arXiv 2310.07088), method section (DiversePrompting: approach and
    persona elicitation, DIV-SE, IDIV-SE); GENERATION.md sec. 6.1.

    Parameters:
        approaches: the approaches to use (None: elicited from the model).
        personas: the personas to use (None: elicited).
        n_approaches: approaches to elicit.
        approaches_per_call: approaches solved in one call (1 to 5).
        elicit_repeats: elicitation calls, whose answers are pooled.
        n_personas: personas to elicit (0: none).
        temperature: temperature of the solving calls.
        elicit_temperature: temperature of the elicitation calls.
        max_tokens: token cap of each solving call (idiv-se: size x max_tokens for a call of size solutions).
        retries: extra rounds for missing solutions.
    """

    name = "div-se"

    def __init__(self, approaches: Sequence[str] | None = None, personas: Sequence[str] | None = None,
                 n_approaches: int = 5, approaches_per_call: int = 5, elicit_repeats: int = 3, n_personas: int = 2,
                 temperature: float = 0.0, elicit_temperature: float = 0.7, max_tokens: int = 1024,
                 retries: int = 2):
        if n_approaches < 1 or not 1 <= approaches_per_call <= 5 or elicit_repeats < 1 or n_personas < 0:
            raise UsageError(f"need n_approaches >= 1, 1 <= approaches_per_call <= 5, elicit_repeats >= 1, "
                             f"n_personas >= 0; got {n_approaches}, {approaches_per_call}, {elicit_repeats}, "
                             f"{n_personas}")
        if approaches is not None and not [a for a in approaches if a.strip()]:
            raise UsageError("approaches is empty: give at least one approach, or None to elicit them")
        self.approaches = None if approaches is None else [a.strip() for a in approaches if a.strip()]
        self.personas = None if personas is None else [p.strip() for p in personas if p.strip()]
        self.n_approaches, self.approaches_per_call = n_approaches, approaches_per_call
        self.elicit_repeats = elicit_repeats
        self.n_personas, self.temperature, self.elicit_temperature = n_personas, temperature, elicit_temperature
        self.max_tokens, self.retries = max_tokens, retries
        self._elicited: dict[str, tuple[list[str], list[str]]] = {}

    def run(self, backend: Backend, prompt: str, n: int, seed: int) -> list[dict[str, Any]]:
        approaches, personas = self.elicit(backend, prompt, seed)
        pairs = self.pairs(approaches, [None, *personas], n)
        rows = self.solve(backend, prompt, pairs, seed)
        vote = majority([r["answer"] for r in rows])
        return [{**r, "majority_answer": vote} for r in rows]

    @staticmethod
    def pairs(approaches: Sequence[str], personas: Sequence[str | None], n: int) -> list[Pair]:
        """n (persona, approach) pairs in Latin-square order (all pairs before any repeats)."""
        a, p = len(approaches), len(personas)
        return [(personas[(i % a + (i // a) % p) % p], approaches[i % a]) for i in range(n)]

    def solve(self, backend: Backend, prompt: str, pairs: list[Pair], seed: int) -> list[dict[str, Any]]:
        """DIV-SE: one call per pair, all in one batch."""
        convs = [self.solve_messages(prompt, persona, approach) for persona, approach in pairs]
        replies = chat(backend, convs, seeds=[sub_seed(seed, 2, i) for i in range(len(pairs))],
                       temperature=self.temperature, max_tokens=self.max_tokens)
        return [_row(r[0], persona, approach) for r, (persona, approach) in zip(replies, pairs, strict=True)]

    @staticmethod
    def solve_messages(prompt: str, persona: str | None, approach: str) -> Messages:
        """Persona as the system message; the question, the approach, step-by-step and the answer line."""
        system = [{"role": "system", "content": f"You are {persona}."}] if persona else []
        return system + [{"role": "user", "content": (
            f"{prompt}\n\nSolve this using the following approach: {approach}. Think step by step, then give "
            "the final answer on the last line as \"Answer: <answer>\".")}]

    def elicit(self, backend: Backend, prompt: str, seed: int) -> tuple[list[str], list[str]]:
        """(approaches, personas): the given ones, or elicited from the model (cached per prompt)."""
        if self.approaches is not None and self.personas is not None:
            return self.approaches, self.personas
        if prompt not in self._elicited:
            self._elicited[prompt] = self._elicit(backend, prompt, seed)
        return self._elicited[prompt]

    def _elicit(self, backend: Backend, prompt: str, seed: int) -> tuple[list[str], list[str]]:
        convs, seeds = [], []
        if self.approaches is None:
            ask = (f"Here is a question:\n\n{prompt}\n\nWithout solving it, name up to {self.approaches_per_call} "
                   "distinct high-level approaches that could solve questions like this one (for example: working "
                   "backwards, drawing a diagram, the method of elimination). Write one per line as "
                   "\"Approach: <short name>\".")
            convs += [[{"role": "user", "content": ask}]] * self.elicit_repeats
            seeds += [sub_seed(seed, 0, j) for j in range(self.elicit_repeats)]
        if self.personas is None and self.n_personas:
            ask = (f"Here is a question:\n\n{prompt}\n\nWithout solving it, name {self.n_personas} personas (kinds "
                   "of experts) who would be well suited to solve questions like this one (for example: a math "
                   "professor). Write one per line as \"Persona: <short description>\".")
            convs.append([{"role": "user", "content": ask}])
            seeds.append(sub_seed(seed, 1))
        replies = [r[0] for r in chat(backend, convs, seeds=seeds, temperature=self.elicit_temperature,
                                      max_tokens=self.max_tokens)]
        approaches = self.approaches or self._most_frequent(replies[:self.elicit_repeats])
        personas = self.personas if self.personas is not None else (
            elicited_names(replies[-1])[:self.n_personas] if self.n_personas else [])
        return approaches, personas

    def _most_frequent(self, replies: list[str]) -> list[str]:
        """The n_approaches names found in most replies (each reply counts a name once); ties: first seen."""
        counts: Counter[str] = Counter()
        shown: dict[str, str] = {}
        for reply in replies:
            names = {_key(x): x for x in elicited_names(reply)[:self.approaches_per_call]}
            counts.update(list(names))
            for key, name in names.items():
                shown.setdefault(key, name)
        if not counts:
            raise QuadivError("DIV-SE found no approaches in the model's replies; pass approaches=[...] or use a "
                              "model that follows the \"Approach: <name>\" format")
        order = {k: i for i, k in enumerate(shown)}
        keys = sorted(counts, key=lambda k: (-counts[k], order[k]))[:self.n_approaches]
        return [shown[k] for k in keys]


@register_strategy
class IDivSE(DivSE):
    """IDIV-SE: the (persona, approach) pairs of DIV-SE solved within one call, ``size`` pairs per call.

    Each call lists its pairs and asks for one independent solution per approach, in order, each opened
    by "Approach i:" and closed by "Answer:"; the reply is split at those headers. Pairs whose
    solution is missing are asked again (up to ``retries`` rounds), then a QuadivError is raised.
    Ensemble ``size`` = 5 as the paper uses for GSM8K and AQuA (3 for its other tasks). Naik et al.
    2023/2024, method section (IDIV-SE); GENERATION.md sec. 6.1(a).

    Parameters:
        size: (persona, approach) pairs solved in one call; a call's cap is size x max_tokens.
    """

    name = "idiv-se"

    def __init__(self, size: int = 5, **params: Any):
        if size < 1:
            raise UsageError(f"size (pairs per call) must be >= 1, got {size}")
        super().__init__(**params)
        self.size = size

    def solve(self, backend: Backend, prompt: str, pairs: list[Pair], seed: int) -> list[dict[str, Any]]:
        found: dict[int, dict[str, Any]] = {}
        todo = list(range(len(pairs)))
        for attempt in range(self.retries + 1):
            chunks = [todo[i:i + self.size] for i in range(0, len(todo), self.size)]
            convs = [self.in_call_messages(prompt, [pairs[j] for j in chunk]) for chunk in chunks]
            replies = chat(backend, convs, seeds=[sub_seed(seed, 3, attempt, c) for c in range(len(chunks))],
                           temperature=self.temperature, max_tokens=self.max_tokens * self.size)
            for chunk, reply in zip(chunks, replies, strict=True):
                sections = split_solutions(reply[0])
                for pos, j in enumerate(chunk, start=1):
                    if pos in sections:
                        found[j] = _row(sections[pos], *pairs[j])
            todo = [j for j in range(len(pairs)) if j not in found]
            if not todo:
                return [found[j] for j in range(len(pairs))]
        raise QuadivError(f"IDIV-SE replies lacked {len(todo)} of {len(pairs)} solutions after {self.retries} "
                          "retries: the model did not write the \"Approach i:\" sections; use div-se instead")

    @staticmethod
    def in_call_messages(prompt: str, pairs: Sequence[Pair]) -> Messages:
        """One prompt listing the pairs and asking for one solution per approach, in order."""
        listed = "\n".join(f"{i}. {approach}" + (f" (as {persona})" if persona else "")
                           for i, (persona, approach) in enumerate(pairs, start=1))
        return [{"role": "user", "content": (
            f"{prompt}\n\nSolve this question {len(pairs)} times, once with each approach below, in this order, "
            "each solution independent of the others. Start each solution with a line \"Approach <i>: <name>\", "
            "think step by step, and end it with a line \"Answer: <answer>\".\n\n" + listed)}]


def split_solutions(reply: str) -> dict[int, str]:
    """{i: text} of the "Approach i" sections of an in-call reply (header line included)."""
    marks = list(_SECTION.finditer(reply))
    bounds = [m.start() for m in marks] + [len(reply)]
    return {int(m.group(1)): reply[bounds[i]:bounds[i + 1]].strip() for i, m in reversed(list(enumerate(marks)))}


def _row(text: str, persona: str | None, approach: str) -> dict[str, Any]:
    return {"text": text, "approach": approach, "persona": persona, "answer": extract_answer(text)}
