"""DIV-SE / IDIV-SE: approach and persona elicitation, the pair prompts, in-call parsing, majority vote."""
from __future__ import annotations

import pytest
from fake_backend import FakeBackend, last_user, system_text

from quadiv.errors import QuadivError, UsageError
from quadiv.generate import STRATEGIES, get_strategy
from quadiv.generate.strategies._divse import (
    DivSE,
    IDivSE,
    elicited_names,
    extract_answer,
    majority,
    split_solutions,
)

Q = "A train travels 60 km in 1.5 hours. What is its speed?"


def solver(request, i):
    """Answers '40' except for the 'guessing' approach; elicitation requests get names."""
    text = last_user(request)
    if "name up to" in text:
        return ["Approach: Working backwards\nApproach: Unit analysis\nApproach: Guessing",
                "1. unit analysis\n2. Drawing a diagram",
                "Approach: Unit Analysis.\nApproach: Working backwards"][i % 3]
    if "personas" in text:
        return "Persona: a physics teacher\nPersona: a train engineer\nPersona: a poet"
    if "Solve this question" in text:
        return "\n".join(f"Approach {k}: x\nsteps\nAnswer: {40 if k != 2 else 41}" for k in range(1, 6))
    return "Reasoning...\nAnswer: 41." if "Guessing" in text else "Step 1...\n**Answer: 40 km/h**"


def test_given_pairs_build_persona_system_and_approach_prompts_at_temperature_zero():
    backend = FakeBackend(responder=solver)
    rows = DivSE(approaches=["Working backwards", "Guessing"], personas=["a physics teacher"]).run(backend, Q, 4, 0)
    assert len(rows) == 4 and len(backend.requests) == 4 and backend.batches == 1
    assert [(r["persona"], r["approach"]) for r in rows] == [
        (None, "Working backwards"), ("a physics teacher", "Guessing"),
        ("a physics teacher", "Working backwards"), (None, "Guessing")]
    first, second = backend.requests[:2]
    assert system_text(first) == "" and system_text(second) == "You are a physics teacher."
    assert last_user(first).startswith(Q) and "following approach: Working backwards" in last_user(first)
    assert "Think step by step" in last_user(first) and "Answer: <answer>" in last_user(first)
    assert {r.temperature for r in backend.requests} == {0.0}
    assert [r["answer"] for r in rows] == ["40 km/h", "41", "40 km/h", "41"]
    assert {r["majority_answer"] for r in rows} == {"40 km/h"}


def test_pairs_visit_every_persona_approach_pair_before_repeating():
    pairs = DivSE.pairs(["a1", "a2", "a3"], [None, "p1"], 8)
    assert len(set(pairs[:6])) == 6 and pairs[6:] == pairs[:2]
    assert [a for _, a in pairs[:3]] == ["a1", "a2", "a3"] and pairs[1][0] == "p1"


def test_approaches_elicited_by_repeated_calls_and_most_frequent_kept():
    backend = FakeBackend(responder=solver)
    strategy = DivSE(n_approaches=2, elicit_repeats=3, n_personas=2)
    rows = strategy.run(backend, Q, 2, seed=0)
    asks = [r for r in backend.requests if "name up to" in last_user(r)]
    assert len(asks) == 3 and {r.temperature for r in asks} == {0.7} and len({r.seed for r in asks}) == 3
    assert Q in last_user(asks[0]) and "Without solving it" in last_user(asks[0])
    # unit analysis: 3 replies, working backwards: 2, guessing/diagram: 1
    assert [r["approach"] for r in rows] == ["Unit analysis", "Working backwards"]
    assert strategy.elicit(backend, Q, 0) == (["Unit analysis", "Working backwards"],
                                              ["a physics teacher", "a train engineer"])
    n_before = len(backend.requests)
    strategy.run(backend, Q, 2, seed=1)                             # cached per prompt: no new elicitation
    assert len(backend.requests) == n_before + 2


def test_idiv_se_puts_all_pairs_in_one_call_and_splits_the_reply():
    backend = FakeBackend(responder=solver)
    approaches = ["A1", "A2", "A3", "A4", "A5"]
    rows = IDivSE(approaches=approaches, personas=[], size=5).run(backend, Q, 5, seed=0)
    assert len(backend.requests) == 1
    prompt = last_user(backend.requests[0])
    assert prompt.startswith(Q) and "5 times" in prompt and all(f"{i}. A{i}" in prompt for i in range(1, 6))
    assert [r["approach"] for r in rows] == approaches
    assert [r["answer"] for r in rows] == ["40", "41", "40", "40", "40"]
    assert rows[1]["text"].startswith("Approach 2") and {r["majority_answer"] for r in rows} == {"40"}


def test_idiv_se_chunks_by_size_and_retries_missing_solutions():
    replies = iter(["Approach 1: x\nAnswer: 1\nApproach 2: y\nAnswer: 2", "Approach 1: z\nAnswer: 3",
                    "Approach 1: w\nAnswer: 4"])
    backend = FakeBackend(responder=lambda r, i: next(replies))
    rows = IDivSE(approaches=["A", "B", "C", "D"], personas=[], size=3).run(backend, Q, 4, 0)
    assert [r["answer"] for r in rows] == ["1", "2", "4", "3"]        # C missing from call 1, asked again
    assert "3 times" in last_user(backend.requests[0]) and "1. D" in last_user(backend.requests[1])
    assert "1. C" in last_user(backend.requests[2])
    with pytest.raises(QuadivError, match="lacked 1 of 1"):
        IDivSE(approaches=["A"], personas=[], retries=1).run(FakeBackend(responder=lambda r, i: "no sections"), Q, 1, 0)


def test_helpers_parse_names_answers_sections_and_vote():
    assert elicited_names("Sure!\nApproach 1: **Working backwards**\nApproach 2 - Tables.") == ["Working backwards",
                                                                                                "Tables"]
    assert elicited_names("1. a\n2. b") == ["a", "b"]
    assert extract_answer("x\nAnswer: 3\nmore\nFinal answer: **$1,200**.") == "$1,200"
    assert extract_answer("no answer") is None
    assert majority(["$1,200", "1200", None, "7", "7"]) == "$1,200"
    assert majority([None, None]) is None
    assert split_solutions("intro\n### Approach 2: b\nB\n**Approach 1**: a\nA") == {2: "### Approach 2: b\nB",
                                                                                    1: "**Approach 1**: a\nA"}


def test_registry_and_bad_arguments():
    assert STRATEGIES["div-se"] is DivSE and STRATEGIES["idiv-se"] is IDivSE
    assert get_strategy("idiv-se", size=3, approaches=["x"]).size == 3
    for kwargs in ({"approaches": []}, {"approaches_per_call": 6}, {"elicit_repeats": 0}):
        with pytest.raises(UsageError):
            DivSE(**kwargs)
    with pytest.raises(UsageError):
        IDivSE(size=0)
    with pytest.raises(QuadivError, match="no approaches"):
        DivSE(personas=[]).run(FakeBackend(responder=lambda r, i: "I won't."), Q, 1, 0)
