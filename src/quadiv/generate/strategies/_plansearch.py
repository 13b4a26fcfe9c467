"""PlanSearch: observations about the problem, combined into plans, each plan realised as a solution."""
from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from quadiv.errors import QuadivError, UsageError
from quadiv.generate._base import Backend, Strategy, register_strategy
from quadiv.generate._chat import Messages, chat, parse_list, sub_seed

Combo = tuple[str, ...]

_SYSTEM_OBSERVE = ("You are an expert problem solver. You will be given a problem. You will return several useful, "
                   "non-obvious and correct observations about it, like hints toward a solution. You will NOT solve "
                   "the problem. Be as creative as possible, going beyond what you think is intuitively correct.")
_SYSTEM_DERIVE = ("You are an expert problem solver. You will be given a problem and several correct observations "
                  "about it. You will brainstorm new, useful and correct observations derived from the given ones. "
                  "You will NOT solve the problem. Be as creative as possible, going beyond what you think is "
                  "intuitively correct.")
_SYSTEM_SKETCH = ("You are an expert problem solver. You will be given a problem and observations that help solve "
                  "it. You will return a high-level, natural-language solution sketch that uses the observations, "
                  "like an editorial. You will NOT write the final solution. Be as creative as possible.")
_TO_LIST = ("List only the observations you arrived at, without the reasoning, as a Python list of strings, for "
            'example ["Use a greedy algorithm on X.", "Dynamic programming over Y works."]. Output the list only.')


_OBSERVE = (
    "Here is the problem:\n\n{problem}\n\nBrainstorm a list of {n} non-obvious observations about "
    "properties of the problem, each a few words long: simple, creative observations you would normally not "
    "think of. Reason before each one, like so:\n\nObservation 1:\n<a paragraph or two of reasoning>\n"
    "<the observation>\n\nMake sure the observations help solve the problem and do not just restate the obvious.")
_DERIVE = (
    "Here is the problem:\n\n{problem}\n\n{observations}\n\nFirst reason about the implications of {what}. "
    "Then creatively combine them to brainstorm new, non-obvious observations derived from them, each after a "
    "paragraph of reasoning, in the format:\n\nObservation 1:\n<reasoning>\n<the observation>")
_SKETCH = (
    "Here is the problem:\n\n{problem}\n\n{observations}\n\nUse these observations to brainstorm a "
    "natural-language solution sketch. Quote the relevant observation exactly before each step.")
_CRITIQUE = (
    "Here is the problem:\n\n{problem}\n\nHere is a proposed solution sketch:\n\n{sketch}\n\nList the "
    "mistakes, gaps or wrong assumptions in this sketch. Be specific; do not rewrite it.")
_FIX = (
    "Here is the problem:\n\n{problem}\n\nHere is a solution sketch:\n\n{sketch}\n\nHere is a critique of "
    "it:\n\n{critique}\n\nRewrite the sketch so that it fixes the valid criticisms and keeps what was right. "
    "Output only the revised sketch.")
_SOLVE = (
    "Here is the problem:\n\n{problem}\n\nHere is a plan for solving it:\n\n{plan}\n\nFollowing this plan, "
    "write the complete solution to the problem. Output only the solution.")


def _chat(user: str, system: str | None = None) -> Messages:
    return ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": user}]


def _observation_block(combo: Combo) -> str:
    if not combo:
        return "No observations are necessary to solve this problem."
    return "Here are correct observations that help solve the problem:\n\n" + "\n".join(f"- {o}" for o in combo)


@register_strategy
class PlanSearch(Strategy):
    """PlanSearch: solve the problem once per combination of model-written observations (a plan each).

    1. Layer 0: one call asks for ``n_observations`` non-obvious observations, each after its
       reasoning; a follow-up turn asks for them as a list (re-asked at temperature 0.2 * attempt
       when unparseable, as the reference does).
    2. Combinations: every subset of 0..``max_combo`` observations (1 + 10 + 45 = 56 for the
       defaults), in a seeded random order.
    3. Layer 1 (``layers`` = 2): for a subset S, one call derives new observations from S; subsets of
       1..``max_combo`` of those are child combinations.
    4. Each chosen combination gets a natural-language sketch that quotes its observations; with
       ``use_fix`` a critique call and a fix call revise it; a last call writes the solution that
       follows the (revised) sketch. Stages run as batches.

    The reference realises every node of the tree (hundreds of plans per problem); here the tree is
    walked lazily: row 2j uses layer-0 combination j and row 2j + 1 one child of it (layer 1), so n
    rows cost 2 + 2 ceil(n / 2) observation calls plus 2 or 4 calls per row. It realises the
    revised sketch only (the reference turns both the original and the fixed sketch into pseudocode
    and code). Rows have ``observations``, ``plan`` and ``layer``. Defaults as the reference CLI:
    10 observations, max_combo 2, 2 layers, temperature 0, top_p 0.9.

    Wang, Cassano, Wu, Bai, Song, Nath, Han, Hendryx, Yue, Zhang (Scale AI), 2024, "Planning In Natural
    Language Improves LLM Search For Code Generation", sec. 4 (methods: PlanSearch); reference code
    scaleapi/plansearch ``search/combo_observation_model.py``; GENERATION.md sec. 6.2.

    Parameters:
        n_observations: observations asked for at layer 0.
        max_combo: largest subset of observations combined into one plan.
        layers: 1 (observations only) or 2 (derived observations too).
        use_fix: critique and fix each sketch before solving.
        temperature: temperature of the calls.
        top_p: nucleus mass of the calls.
        max_tokens: token cap of each call (the solution included).
        parse_tries: tries to get the observations as a readable list.
    """

    name = "plan"

    def __init__(self, n_observations: int = 10, max_combo: int = 2, layers: int = 2, use_fix: bool = True,
                 temperature: float = 0.0, top_p: float = 0.9, max_tokens: int = 2048, parse_tries: int = 3):
        if n_observations < 1 or max_combo < 0 or layers not in (1, 2) or parse_tries < 1:
            raise UsageError(f"need n_observations >= 1, max_combo >= 0, layers in (1, 2), parse_tries >= 1; got "
                             f"{n_observations}, {max_combo}, {layers}, {parse_tries}")
        self.n_observations, self.max_combo, self.layers, self.use_fix = n_observations, max_combo, layers, use_fix
        self.temperature, self.top_p, self.max_tokens, self.parse_tries = temperature, top_p, max_tokens, parse_tries

    def run(self, backend: Backend, prompt: str, n: int, seed: int) -> list[dict[str, Any]]:
        (first,) = self.observe(backend, prompt, [None], seed)
        if not first:
            raise QuadivError("PlanSearch could not read any observation from the model's replies; use a model "
                              "that follows list instructions, or raise max_tokens")
        combos = self.combinations(first, 0, seed)
        chosen = self._choose(backend, prompt, combos, n, seed)
        plans = self.plan(backend, prompt, [c for c, _ in chosen], seed)
        solutions = self._ask(backend, [self._solve_messages(prompt, p) for p in plans], seed, 9)
        return [{"text": text, "observations": list(combo), "plan": p, "layer": layer}
                for text, p, (combo, layer) in zip(solutions, plans, chosen, strict=True)]

    def combinations(self, observations: list[str], smallest: int, seed: int) -> list[Combo]:
        """Subsets of ``smallest``..max_combo observations, in a seeded random order."""
        subsets = [c for k in range(smallest, min(self.max_combo, len(observations)) + 1)
                   for c in itertools.combinations(observations, k)]
        order = np.random.default_rng(seed).permutation(len(subsets))
        return [subsets[i] for i in order]

    def _choose(self, backend: Backend, prompt: str, combos: list[Combo], n: int,
                seed: int) -> list[tuple[Combo, int]]:
        """n (combination, layer) pairs: layer-0 combinations interleaved with one child of each."""
        if self.layers == 1:
            return [(combos[i % len(combos)], 0) for i in range(n)]
        parents = list(dict.fromkeys(combos[j % len(combos)] for j in range(math.ceil(n / 2))))
        derived = self.observe(backend, prompt, parents, seed)
        chosen: list[tuple[Combo, int]] = []
        for j, (parent, new) in enumerate(zip(parents, derived, strict=True)):
            chosen.append((parent, 0))
            children = self.combinations(new, 1, sub_seed(seed, 7, j))
            if children:
                chosen.append((children[0], 1))
        return [chosen[i % len(chosen)] for i in range(n)]

    def observe(self, backend: Backend, prompt: str, combos: list[Combo | None], seed: int) -> list[list[str]]:
        """Observations per combination (None: the layer-0 request), each read back as a list."""
        layer = 0 if combos == [None] else 1
        convs = [self._observe_messages(prompt, c) for c in combos]
        notes = self._ask(backend, convs, seed, 1, layer)
        follow = [conv + [{"role": "assistant", "content": note}, {"role": "user", "content": _TO_LIST}]
                  for conv, note in zip(convs, notes, strict=True)]
        lists: list[list[str]] = [[] for _ in combos]
        todo = list(range(len(combos)))
        for attempt in range(self.parse_tries):
            seeds = [sub_seed(seed, 2, layer, attempt, i) for i in todo]
            replies = chat(backend, [follow[i] for i in todo], seeds=seeds,
                           temperature=0.2 * attempt, top_p=self.top_p, max_tokens=self.max_tokens)
            for i, reply in zip(todo, replies, strict=True):
                lists[i] = parse_list(reply[0])
            todo = [i for i in todo if not lists[i]]
            if not todo:
                break
        return lists

    def plan(self, backend: Backend, prompt: str, combos: list[Combo], seed: int) -> list[str]:
        """A sketch per combination; with ``use_fix``, critiqued and then revised."""
        sketches = self._ask(backend, [_chat(_SKETCH.format(problem=prompt, observations=_observation_block(c)),
                                             _SYSTEM_SKETCH) for c in combos], seed, 3)
        if not self.use_fix:
            return sketches
        critiques = self._ask(backend, [_chat(_CRITIQUE.format(problem=prompt, sketch=s)) for s in sketches], seed, 4)
        fixes = [_chat(_FIX.format(problem=prompt, sketch=s, critique=c))
                 for s, c in zip(sketches, critiques, strict=True)]
        return self._ask(backend, fixes, seed, 5)

    def _observe_messages(self, prompt: str, combo: Combo | None) -> Messages:
        if combo is None:
            return _chat(_OBSERVE.format(problem=prompt, n=self.n_observations), _SYSTEM_OBSERVE)
        what = "the observations above" if combo else "the problem"
        return _chat(_DERIVE.format(problem=prompt, observations=_observation_block(combo), what=what),
                     _SYSTEM_DERIVE)

    @staticmethod
    def _solve_messages(prompt: str, plan: str) -> Messages:
        return _chat(_SOLVE.format(problem=prompt, plan=plan))

    def _ask(self, backend: Backend, convs: list[Messages], seed: int, *stage: int) -> list[str]:
        replies = chat(backend, convs, seeds=[sub_seed(seed, *stage, i) for i in range(len(convs))],
                       temperature=self.temperature, top_p=self.top_p, max_tokens=self.max_tokens)
        return [r[0] for r in replies]
