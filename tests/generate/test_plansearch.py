"""PlanSearch: observations, their combinations, derived observations, sketch -> critique -> fix -> solution."""
from __future__ import annotations

import json
import re

import pytest
from fake_backend import FakeBackend, last_user, system_text

from quadiv.errors import QuadivError, UsageError
from quadiv.generate import STRATEGIES, PlanSearch

PROBLEM = "Count the lattice paths from (0,0) to (n,n) that never cross the diagonal."
OBS = ["o1", "o2", "o3"]


def given(text: str) -> list[str]:
    """The observations listed as '- x' lines in a prompt."""
    return re.findall(r"^- (.+)$", text, re.MULTILINE)


def responder(request, i):
    user, system = last_user(request), system_text(request)
    if user.startswith("List only the observations"):
        asked = request.messages[1]["content"]
        if "Brainstorm a list of" in asked:
            return "```python\n" + json.dumps(OBS) + "\n```"
        base = "+".join(given(asked)) or "none"
        return json.dumps([f"d({base})a", f"d({base})b"])
    if "Brainstorm a list of" in user or "brainstorm new" in user:
        return "Observation 1:\nreasoning...\nsomething"
    if "natural-language solution sketch" in user:
        return "sketch[" + ",".join(given(user)) + "]"
    if user.endswith("do not rewrite it."):
        return "critique of " + re.search(r"sketch\[[^\]]*\]", user).group(0)
    if "Rewrite the sketch" in user:
        return "fixed " + re.search(r"sketch\[[^\]]*\]", user).group(0)
    if "Following this plan" in user:
        return "solution by " + re.search(r"(fixed )?sketch\[[^\]]*\]", user).group(0)
    raise AssertionError(f"unexpected request: system={system[:40]!r} user={user[:80]!r}")


def test_rows_realise_distinct_combinations_alternating_layers():
    backend = FakeBackend(responder=responder)
    rows = PlanSearch(n_observations=3).run(backend, PROBLEM, 6, seed=0)
    assert len(rows) == 6 and [r["layer"] for r in rows] == [0, 1] * 3
    layer0 = [tuple(r["observations"]) for r in rows if r["layer"] == 0]
    assert len(set(layer0)) == 3 and all(set(c) <= set(OBS) and len(c) <= 2 for c in layer0)
    for parent, child in zip(rows[::2], rows[1::2]):
        base = "+".join(parent["observations"]) or "none"
        assert child["observations"] and all(o.startswith(f"d({base})") for o in child["observations"])
    for r in rows:
        sketch = "sketch[" + ",".join(r["observations"]) + "]"
        assert r["plan"] == "fixed " + sketch and r["text"] == "solution by fixed " + sketch


def test_prompts_follow_the_plansearch_stages_and_call_counts():
    backend = FakeBackend(responder=responder)
    PlanSearch(n_observations=3).run(backend, PROBLEM, 4, seed=1)
    users = backend.user_texts()
    first = users[0]
    assert PROBLEM in first and "Brainstorm a list of 3 non-obvious observations" in first
    assert "NOT solve" in system_text(backend.requests[0])
    # 2 layer-0 calls, 2 x 2 layer-1 calls (observe + list) for 2 parents, 4 rows x (sketch, critique, fix, solve)
    assert len(backend.requests) == 2 + 4 + 16
    sketches = [u for u in users if "natural-language solution sketch" in u]
    assert len(sketches) == 4 and all(PROBLEM in u and "Quote the relevant observation" in u for u in sketches)
    assert {r.temperature for r in backend.requests} == {0.0} and {r.top_p for r in backend.requests} == {0.9}


def test_without_fix_the_sketch_is_the_plan_and_one_layer_uses_layer_zero_only():
    backend = FakeBackend(responder=responder)
    rows = PlanSearch(n_observations=3, layers=1, use_fix=False).run(backend, PROBLEM, 9, seed=2)
    assert {r["layer"] for r in rows} == {0} and len(backend.requests) == 2 + 2 * 9
    combos = [tuple(r["observations"]) for r in rows]
    assert len(set(combos[:7])) == 7 and combos[7:] == combos[:2]       # 1 + 3 + 3 subsets, then repeats
    assert all(r["plan"].startswith("sketch[") for r in rows)


def test_unparseable_list_is_asked_again_with_rising_temperature():
    replies = iter(["Observation 1: ...", "no list here", "still none", '["only"]'])
    backend = FakeBackend(responder=lambda r, i: next(replies, "sketch or solution"))
    rows = PlanSearch(n_observations=1, layers=1, use_fix=False).run(backend, PROBLEM, 1, seed=0)
    assert [r.temperature for r in backend.requests[1:4]] == [0.0, pytest.approx(0.2), pytest.approx(0.4)]
    assert rows[0]["observations"] in ([], ["only"])
    failing = FakeBackend(responder=lambda r, i: "nothing useful")
    with pytest.raises(QuadivError, match="could not read any observation"):
        PlanSearch(parse_tries=2).run(failing, PROBLEM, 1, seed=0)


def test_combinations_are_all_small_subsets_in_seeded_order():
    strategy = PlanSearch(max_combo=2)
    obs = [f"o{i}" for i in range(10)]
    combos = strategy.combinations(obs, 0, seed=3)
    assert len(combos) == 1 + 10 + 45 == len(set(combos))
    assert combos == strategy.combinations(obs, 0, seed=3) != strategy.combinations(obs, 0, seed=4)
    assert len(strategy.combinations(obs, 1, seed=3)) == 55


def test_registry_and_bad_arguments():
    assert STRATEGIES["plan"] is PlanSearch
    for kwargs in ({"layers": 3}, {"n_observations": 0}, {"max_combo": -1}, {"parse_tries": 0}):
        with pytest.raises(UsageError):
            PlanSearch(**kwargs)


def test_problem_text_with_braces_is_passed_through_verbatim():
    problem = "Parse the JSON {\"a\": [1, 2]} and sum {a}."
    backend = FakeBackend(responder=lambda r, i: '["x"]' if "List only" in last_user(r) else "reply")
    PlanSearch(n_observations=1, layers=1, use_fix=False).run(backend, problem, 1, seed=0)
    assert all(problem in u for u in backend.user_texts() if not u.startswith("List only"))
