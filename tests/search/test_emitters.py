"""Emitters, filters and describers: the probabilities and prompts the papers define."""
from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from toy_domain import FakeLLM

from quadiv.errors import UsageError
from quadiv.generate import Completion
from quadiv.search import (
    Axis,
    CallableEmitter,
    Elite,
    JudgeCategory,
    LMXEmitter,
    MultiElementArchive,
    RewriteEmitter,
    SimilarityFilter,
    run,
)
from quadiv.search._emitters import clean_reply

LINE = [Axis.numeric("x", bins=10, low=0, high=10)]


def line_archive():
    archive = MultiElementArchive(LINE, cap=1)
    for k in range(10):
        archive.add(Elite(str(k), f"text {k}", 1.0, (k + 0.5,)))
    return archive


def test_lmx_near_picks_examples_with_probability_one_over_one_plus_d_cubed():
    emitter = LMXEmitter(FakeLLM(), num_fewshot=2, neighbour_power=3)
    emitter._seeds = ["seed"]
    archive, rng = line_archive(), np.random.default_rng(0)
    counts = Counter()
    for _ in range(6000):
        shown = emitter._fewshot(archive, "text 0", rng)
        counts.update(t for t in shown if t != "text 0")
    weights = np.array([1 / (1 + d ** 3) for d in range(1, 10)])
    expected = weights / weights.sum()
    observed = np.array([counts[f"text {k}"] for k in range(1, 10)]) / 6000
    assert np.allclose(observed, expected, atol=0.02)


def test_lmx_prompt_lists_the_examples_and_the_domain():
    llm = FakeLLM()
    emitter = LMXEmitter(llm, domain="haiku", num_fewshot=3)
    children = emitter.ask(line_archive(), ["seed"], np.random.default_rng(1), 5, limit=1)
    prompt = llm.requests[0].messages[-1]["content"]
    assert len(children) == 1 and prompt.count("\n#") == 3 and "examples of haiku" in prompt


def test_weak_cells_are_sampled_by_softmax_of_one_minus_fitness():
    axes = [Axis("c", categories=["a", "b", "c"])]
    archive = MultiElementArchive(axes, cap=1)
    archive.add(Elite("0", "x", 0.9, ("a",)))
    archive.add(Elite("1", "y", 0.2, ("b",)))
    emitter = CallableEmitter(lambda parent, target: parent + "!", target="weak", weak_temperature=0.5)
    rng = np.random.default_rng(0)
    counts = Counter(emitter._target(archive, rng)[0] for _ in range(20000))
    z = np.array([0.9, 0.2, 0.0])  # an empty cell counts as fitness 0
    p = np.exp((1 - z) / 0.5) / np.exp((1 - z) / 0.5).sum()
    assert np.allclose([counts[c] / 20000 for c in "abc"], p, atol=0.01)


def test_rainbow_rewrites_one_axis_after_the_other_and_rainbowplus_all_at_once():
    axes = [Axis("risk", categories=["fraud"]), Axis("style", categories=["role play"])]
    archive = MultiElementArchive(axes)
    llm = FakeLLM(capabilities=("chat",))
    RewriteEmitter(llm, domain="tests").ask(archive, ["seed text"], np.random.default_rng(0), 0, limit=1)
    first, second = (r.messages[-1]["content"] for r in llm.requests)
    assert "risk becomes: fraud" in first and "seed text" in first and "style becomes: role play" in second
    llm = FakeLLM(capabilities=("chat", "n_samples"))
    made = RewriteEmitter(llm, joint=True, num_mutations=5).ask(archive, ["seed"], np.random.default_rng(0), 0,
                                                                 limit=5)
    assert len(llm.requests) == 1 and llm.requests[0].n == 5 and len(made) == 5
    assert "- risk: fraud\n- style: role play" in llm.requests[0].messages[-1]["content"]


def test_rainbowplus_parents_are_the_seeds_in_turn_then_the_archive():
    archive = MultiElementArchive([Axis("c", categories=["a"])])
    archive.add(Elite("9", "elite", 1.0, ("a",)))
    emitter = CallableEmitter(lambda p: p + "!", seed_iterations=3)
    rng = np.random.default_rng(0)
    parents = [emitter._parent(archive, ["s0", "s1"], rng, i)[1] for i in range(5)]
    assert parents == ["s0", "s1", "s0", "elite", "elite"]


def test_a_user_template_replaces_the_prompt_and_must_keep_its_placeholders():
    llm = FakeLLM(capabilities=("chat",))
    archive = MultiElementArchive([Axis("tone", categories=["calm"])])
    RewriteEmitter(llm, template="Make it {value}: {parent}").ask(archive, ["hi"], np.random.default_rng(0), 0, 1)
    assert llm.requests[0].messages[-1]["content"] == "Make it calm: hi"
    with pytest.raises(UsageError, match=r"lacks \{parent\}"):
        RewriteEmitter(llm, template="Make it {value}")


def test_similarity_filter_drops_near_copies_of_the_parent_and_of_the_batch():
    keep = SimilarityFilter(0.6).keep(
        ["the cat sat on the mat today", "a completely different sentence about dogs", "the cat sat on the mat today",
         "a completely different sentence about dogs running"],
        ["the cat sat on the mat today", "the cat sat on the mat", "x y z", "q r s"])
    assert keep == [False, True, True, False]  # the third copies only a child that was itself dropped


@pytest.mark.parametrize("reply, text", [("#1: A story.", "A story."), ('"Quoted."', "Quoted."),
                                         ("New prompt: do it", "do it"), ("  plain  ", "plain")])
def test_replies_lose_their_labels_and_quotes(reply, text):
    assert clean_reply(reply) == text


class Categoriser:
    name, model = "fake", "judge"

    def __init__(self, logprobs):
        self.capabilities = frozenset({"chat", "top_logprobs"} if logprobs else {"chat"})

    def generate(self, requests):
        out = []
        for r in requests:
            text = r.messages[-1]["content"].split("Text:\n")[1]
            k = "2" if "sad" in text else "1"
            top = [{k: math.log(0.7), "3": math.log(0.2)}] if r.logprobs else None
            out.append([Completion(k if r.logprobs else f"{k}. whatever", top_logprobs=top)] * r.n)
        return out


@pytest.mark.parametrize("logprobs", [True, False])
def test_a_category_judge_names_the_category(logprobs):
    judge = JudgeCategory(Categoriser(logprobs), "tone", ["happy", "sad", "flat"], samples=3)
    assert judge.describe(["a happy day", "a sad day"], [None, None]) == ["happy", "sad"]


def test_the_python_api_returns_the_archive_with_stats_and_records():
    archive = run(["a", "b"], mutate=lambda t, *, rng: t + " " + "ab"[int(rng.integers(2))],
                  fitness=lambda t: -abs(len(t) - 9), descriptors=lambda t: (t.count("a"),),
                  archive=MultiElementArchive([Axis.numeric("a", bins=5, low=0, high=5)], cap=1), budget=50, seed=1)
    stats = archive.stats()
    assert {"qd_score", "coverage", "num_elites", "best"} <= set(stats) and stats["num_elites"] == len(archive.records())
    assert archive.history[-1]["evaluations"] == 50 and stats["coverage"] == 1.0


@pytest.mark.parametrize("kwargs, message", [({"budget": 0}, "budget"), ({"seeds": []}, "seed"),
                                             ({"seeds": "one string"}, "list"),
                                             ({"descriptors": "cells"}, "'target'")])
def test_bad_arguments_are_usage_errors(kwargs, message):
    args = {"seeds": ["a"], "mutate": lambda t: t, "fitness": len, "descriptors": lambda t: (1.0,),
            "archive": MultiElementArchive(LINE), "budget": 5, **kwargs}
    with pytest.raises(UsageError, match=message):
        run(**args)


def test_a_mutator_whose_children_are_all_filtered_stops_with_a_search_error():
    from quadiv.errors import SearchError

    with pytest.raises(SearchError, match="no child survived"):
        run(["same text here"], mutate=lambda t: t, fitness=len, descriptors=lambda t: (1.0,),
            archive=MultiElementArchive(LINE), budget=10, patience=5, similarity=0.6)
