"""Verbalized Sampling: prompts as the paper builds them, robust parsing, weight repair, sampling by weight."""
from __future__ import annotations

import json
from collections import Counter

import pytest
from fake_backend import FakeBackend, last_user, system_text

from quadiv.errors import QuadivError, UsageError
from quadiv.generate import STRATEGIES, VerbalizedSampling, get_strategy
from quadiv.generate._chat import chat, parse_list, sub_seed
from quadiv.generate.strategies._verbalized import normalise_candidates, parse_candidates


def vs_json(pairs) -> str:
    return json.dumps({"responses": [{"text": t, "probability": p} for t, p in pairs]})


def probs(cands) -> dict[str, float]:
    return {c.text: c.probability for c in cands}


# ---- prompts ---------------------------------------------------------------------------------------

def test_standard_prompt_asks_for_k_weighted_responses_in_system_and_puts_input_in_user():
    backend = FakeBackend([vs_json([("a", 0.5), ("b", 0.5)])])
    VerbalizedSampling(k=5).run(backend, "Tell me a joke about coffee.", 1, seed=0)
    (req,) = backend.requests
    assert [m["role"] for m in req.messages] == ["system", "user"]
    system = system_text(req)
    assert "Generate 5 different responses" in system
    assert '"responses"' in system and '"text"' in system and '"probability"' in system
    assert "relative to the full distribution" in system          # the explicit definition (default)
    assert "at random from the full distribution" in system       # the sampling directive
    assert last_user(req) == "Tell me a joke about coffee."
    assert req.temperature == 0.9 and req.n == 1


def test_cot_prompt_asks_for_reasoning_first_and_tail_directive_caps_probabilities():
    backend = FakeBackend([json.dumps({"reasoning": "...", "responses": [{"text": "x", "probability": 0.1}]})])
    VerbalizedSampling(k=3, variant="cot", max_probability=0.1).run(backend, "p", 1, seed=0)
    system = system_text(backend.requests[0])
    assert system.index('"reasoning"') < system.index('"responses"')
    assert "tails of the distribution" in system and "below 0.1" in system


def test_multi_turn_keeps_history_asks_for_alternatives_and_pools_all_turns():
    turns = [vs_json([("a", 0.6), ("b", 0.2)]), vs_json([("c", 0.1), ("d", 0.05)]), vs_json([("e", 0.05)])]
    backend = FakeBackend(turns)
    rows = VerbalizedSampling(k=5, k_turn=2, variant="multi", rows_per_call=5).run(backend, "p", 5, seed=0)
    assert len(backend.requests) == 3                                  # ceil(5 / 2) turns
    first, second, third = backend.requests
    assert "5 different responses" in system_text(first) and "the first 2" in system_text(first)
    assert [m["role"] for m in third.messages] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert third.messages[2]["content"] == turns[0] and third.messages[4]["content"] == turns[1]
    assert "2 alternative responses" in last_user(second) and "1 alternative responses" in last_user(third)
    assert sorted(r["text"] for r in rows) == ["a", "b", "c", "d", "e"]
    assert {r["candidates_k"] for r in rows} == {5} and {r["variant"] for r in rows} == {"multi"}
    assert sum(r["probability"] for r in rows) == pytest.approx(1.0)


def test_json_schema_sent_only_to_backends_with_structured_output():
    plain = FakeBackend([vs_json([("a", 1.0)])])
    VerbalizedSampling().run(plain, "p", 1, 0)
    assert plain.requests[0].extra == {}
    structured = FakeBackend([vs_json([("a", 1.0)])], capabilities=("chat", "structured_output"))
    VerbalizedSampling(variant="cot").run(structured, "p", 1, 0)
    schema = structured.requests[0].extra["response_format"]["json_schema"]["schema"]
    assert schema["required"] == ["reasoning", "responses"]


def test_bad_parameters_are_usage_errors_and_strategy_is_registered():
    assert STRATEGIES["verbalized"] is VerbalizedSampling
    assert get_strategy("verbalized", k=3).k == 3
    for bad in ({"variant": "x"}, {"probability_definition": "nll"}, {"k": 3, "rows_per_call": 4},
                {"max_probability": 1.5}):
        with pytest.raises(UsageError):
            VerbalizedSampling(**bad)


# ---- parsing -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("reply", [
    '{"responses": [{"text": "a", "probability": 0.3}, {"text": "b", "probability": 0.7}]}',
    'Here you go:\n```json\n{"responses": [{"text": "a", "probability": 0.3},\n {"text": "b", "probability": 0.7},]}\n```',
    '[{"response": "a", "confidence": 0.3}, {"response": "b", "confidence": 0.7}]',
    ('<response><text>a</text><probability>0.3</probability></response>\n'
    '<response>\n<text>b</text>\n<probability>0.7</probability>\n</response>'),
    "1. a (probability: 0.3)\n2. b (probability: 0.7)",
    "- a [0.3]\n- b [0.7]",
    "1. **a**\n   **Probability:** 0.3\n2. **b**\n   Probability: 0.7",
    "1) a - 0.3\n2) b - 0.7",
])
def test_every_reply_format_gives_the_same_candidates(reply):
    assert [(t, float(w)) for t, w in parse_candidates(reply)] == [("a", 0.3), ("b", 0.7)]


@pytest.mark.parametrize("wrap", ["{}", "```json\n{}\n```", "Sure:\n```\n{}\n```\nDone."])
def test_a_fenced_snippet_inside_a_candidate_does_not_stand_for_the_reply(wrap):
    snippet = "Parse it with json.loads:\n```json\n[1, 2]\n```"
    reply = wrap.replace("{}", vs_json([(snippet, 0.4), ("plain", 0.6)]))
    assert parse_candidates(reply) == [(snippet, 0.4), ("plain", 0.6)]


def test_truncated_json_keeps_its_complete_entries():
    reply = '{"responses": [{"text": "a", "probability": 0.3}, {"text": "b", "probability": 0.2}, {"text": "c, cut'
    assert parse_candidates(reply) == [("a", 0.3), ("b", 0.2)]


def test_malformed_entries_are_dropped_or_repaired_not_fatal():
    reply = json.dumps({"responses": [
        {"text": "ok", "probability": 0.5}, {"probability": 0.4}, {"text": None, "probability": 0.1},
        {"text": "", "probability": 0.1}, "bare string", 42, {"text": 7, "probability": "n/a"}]})
    assert parse_candidates(reply) == [("ok", 0.5), ("bare string", None), ("7", "n/a")]


def test_unparseable_reply_gives_nothing_rather_than_the_raw_text():
    assert parse_candidates("I cannot answer that.") == []


def test_percent_strings_and_multiline_list_items():
    reply = "1. first line\ncontinued (35%)\n2. second (probability = 65 %)"
    assert parse_candidates(reply) == [("first line\ncontinued", "35%"), ("second", "65%")]


def test_parse_list_reads_json_lists_and_numbered_lines():
    assert parse_list('Sure:\n```python\n["x", "y",]\n```') == ["x", "y"]
    assert parse_list('{"approaches": ["x", "y"]}') == ["x", "y"]
    assert parse_list("Intro\n1. x\n2) y\n- z") == ["x", "y", "z"]


# ---- weight repair -----------------------------------------------------------------------------------

def test_weights_written_as_percentages_are_read_as_percentages():
    bare = probs(normalise_candidates([("a", 35), ("b", 20), ("c", 45)]))
    strings = probs(normalise_candidates([("a", "35%"), ("b", "20 %"), ("c", "45%")]))
    assert bare == pytest.approx({"a": 0.35, "b": 0.20, "c": 0.45})
    assert strings == pytest.approx(bare)


def test_weights_above_one_keep_their_ratios_instead_of_being_clipped():
    got = probs(normalise_candidates([("a", 0.3), ("b", 1.7), ("c", 0.2)]))
    assert got == pytest.approx({"a": 0.3 / 2.2, "b": 1.7 / 2.2, "c": 0.2 / 2.2})
    clipped = 1.0 / (0.3 + 1.0 + 0.2)                       # what the reference's clip-to-1 gives "b"
    assert abs(got["b"] - clipped) > 0.1
    scores = probs(normalise_candidates([("a", 300), ("b", 100)]))       # > 100: unnormalised scores
    assert scores == pytest.approx({"a": 0.75, "b": 0.25})


def test_missing_or_invalid_weights_get_the_mean_and_all_missing_is_uniform():
    got = normalise_candidates([("a", 0.6), ("b", None), ("c", "high"), ("d", -0.2), ("e", 0.2)])
    assert probs(got) == pytest.approx({"a": 0.6 / 2.0, "e": 0.2 / 2.0, "b": 0.2, "c": 0.2, "d": 0.2})
    assert "weight filled with the mean" in next(c for c in got if c.text == "b").repairs
    assert probs(normalise_candidates([("a", None), ("b", None)])) == {"a": 0.5, "b": 0.5}
    assert probs(normalise_candidates([("a", 0), ("b", 0.0)])) == {"a": 0.5, "b": 0.5}


def test_duplicate_texts_are_merged_and_their_weights_added():
    got = normalise_candidates([("Same text", 0.2), ("other", 0.4), ("  same   TEXT ", 0.2)])
    assert probs(got) == pytest.approx({"Same text": 0.5, "other": 0.5})
    assert "duplicate merged" in got[0].repairs or "duplicate merged" in got[1].repairs


def test_tau_keeps_heavy_candidates_and_at_least_min_survivors():
    items = [("a", 0.5), ("b", 0.3), ("c", 0.1), ("d", 0.05)]
    assert set(probs(normalise_candidates(items, tau=0.12))) == {"a", "b"}
    assert set(probs(normalise_candidates(items, tau=0.12, min_survivors=3))) == {"a", "b", "c"}
    assert set(probs(normalise_candidates(items, tau=0.9))) == {"a"}


# ---- sampling ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("weights", [(0.5, 0.3, 0.2), (35, 20, 45), ("10%", "60%", "30%")])
def test_row_frequencies_follow_the_verbalized_weights(weights):
    reply = vs_json(zip("abc", weights))
    backend = FakeBackend(responder=lambda req, i: reply)
    rows = VerbalizedSampling(k=3).run(backend, "p", 4000, seed=1)
    assert len(rows) == 4000 and len(backend.requests) == 4000
    expected = normalise_candidates(list(zip("abc", weights)))
    freq = Counter(r["text"] for r in rows)
    for cand in expected:
        assert freq[cand.text] / 4000 == pytest.approx(cand.probability, abs=0.03)
    assert {r["probability"] for r in rows if r["text"] == "a"} == {probs(expected)["a"]}


def test_sampling_is_reproducible_with_the_seed_and_varies_with_it():
    reply = vs_json([("a", 0.25), ("b", 0.25), ("c", 0.25), ("d", 0.25)])

    def run(seed):
        return [r["text"] for r in VerbalizedSampling(k=4).run(FakeBackend(responder=lambda q, i: reply), "p", 40, seed)]
    assert run(3) == run(3) and run(3) != run(4)


def test_rows_per_call_k_uses_every_candidate_once_per_call_and_returns_exactly_n():
    backend = FakeBackend(responder=lambda req, i: vs_json([(f"{i}-{j}", 0.2) for j in range(5)]))
    rows = VerbalizedSampling(k=5, rows_per_call=5).run(backend, "p", 12, seed=0)
    assert len(rows) == 12 and len(backend.requests) == 3 and len({r["text"] for r in rows}) == 12
    assert len({r.seed for r in backend.requests}) == 3


def test_unparseable_replies_are_retried_then_fail_clearly():
    backend = FakeBackend(["sorry, no", vs_json([("a", 0.5), ("b", 0.5)])])
    rows = VerbalizedSampling(k=2).run(backend, "p", 1, seed=0)
    assert [r["text"] for r in rows] in (["a"], ["b"]) and len(backend.requests) == 2
    with pytest.raises(QuadivError, match="no parseable candidates"):
        VerbalizedSampling(k=2, retries=1).run(FakeBackend(responder=lambda q, i: "nope"), "p", 2, seed=0)


def test_non_strict_json_with_text_keys_keeps_the_texts():
    """The reference's non-strict path returns empty texts for this reply (GENERATION.md sec. 3, defect 1)."""
    backend = FakeBackend(['```json\n{"responses": [{"text": "kept", "probability": 1.0}]}\n```'])
    assert VerbalizedSampling(k=1).run(backend, "p", 1, 0)[0]["text"] == "kept"


def test_chat_splits_n_without_n_samples_and_sends_one_request_with_it():
    msgs = [[{"role": "user", "content": "q"}]]
    split = FakeBackend(responder=lambda r, i: f"t{i}")
    assert chat(split, msgs, seeds=[5], temperature=1.0, max_tokens=8, n=3) == [["t0", "t1", "t2"]]
    assert [r.n for r in split.requests] == [1, 1, 1] and len({r.seed for r in split.requests}) == 3
    joint = FakeBackend(responder=lambda r, i: ["x", "y", "z"], capabilities=("chat", "n_samples"))
    assert chat(joint, msgs, seeds=[5], temperature=1.0, max_tokens=8, n=3) == [["x", "y", "z"]]
    assert [(r.n, r.seed) for r in joint.requests] == [(3, 5)]


def test_sub_seed_is_deterministic_and_distinct():
    assert sub_seed(1, 2) == sub_seed(1, 2)
    assert len({sub_seed(1, i) for i in range(100)} | {sub_seed(2, 0)}) == 101
