"""Best-of-N, Fusion-of-N, Self-MoA (and Self-MoA-Seq): judge prompts, score parsing, selection, n rows."""
from __future__ import annotations

import math
import re

import pytest
from fake_backend import FakeBackend, last_user, system_text

from quadiv.errors import QuadivError, UsageError
from quadiv.generate import STRATEGIES, Completion, check_capabilities
from quadiv.generate.strategies._aggregate import (
    BestOfN,
    FusionOfN,
    SelfMoA,
    expected_label_score,
    parse_score,
)

PROMPT = "Explain entropy in one paragraph."


def sampler(request, i):
    """Candidates 'cand-<seed>-<j>' for generation requests (one request per sample)."""
    return f"cand-{request.seed}-{i}"


def score_of(text: str) -> int:
    return int(text.rsplit("-", 1)[1]) % 9 + 1


def judge(request, i):
    user = last_user(request)
    if "[Response]" in user:
        response = user.split("[Response]\n", 1)[1].split("\n\nAnswer with", 1)[0]
        return f"Score: {score_of(response)}"
    return "fused"


def test_best_of_n_keeps_the_highest_scored_candidate_per_row():
    backend = FakeBackend(responder=lambda r, i: judge(r, i) if "[Response]" in last_user(r) else sampler(r, i))
    rows = BestOfN(n_candidates=4).run(backend, PROMPT, 3, seed=0)
    assert len(rows) == 3
    for row in rows:
        assert len(row["candidates"]) == 4 and row["text"] in row["candidates"]
        assert row["judge_score"] == max(score_of(c) for c in row["candidates"]) == score_of(row["text"])
    gen = [r for r in backend.requests if "[Response]" not in last_user(r)]
    assert len(gen) == 12 and {r.temperature for r in gen} == {0.7} and len({r.seed for r in gen}) == 12
    judged = [r for r in backend.requests if "[Response]" in last_user(r)]
    assert len(judged) == 12 and all(PROMPT in last_user(r) for r in judged)
    assert {r.temperature for r in judged} == {0.0}


def test_separate_judge_gets_only_judge_calls_and_n_samples_is_used():
    backend = FakeBackend(responder=lambda r, i: [f"c{i}-{j}" for j in range(r.n)], capabilities=("chat", "n_samples"))
    jury = FakeBackend(responder=lambda r, i: "7" if "c0-2" in last_user(r) else "3")
    rows = BestOfN(n_candidates=3, judge=jury).run(backend, PROMPT, 1, seed=0)
    assert rows[0]["text"] == "c0-2" and rows[0]["judge_score"] == 7
    assert [r.n for r in backend.requests] == [3] and len(jury.requests) == 3
    assert BestOfN(judge=jury).params()["judge"] == "fake:fake-model"


def test_logprob_judging_uses_the_expected_label_score():
    def lp_judge(request, i):
        assert request.logprobs == 20
        mass = {"2": 0.5, "8": 0.5} if "good" in last_user(request) else {"3": 0.9, "4": 0.1}
        first = {f" {k}": math.log(v) for k, v in mass.items()} | {"The": -5.0}
        return [Completion(text="ignored", top_logprobs=[{"\n": -0.1}, first])]
    backend = FakeBackend(responder=lambda r, i: ["bad", "good"][i % 2])
    jury = FakeBackend(responder=lp_judge, capabilities=("chat", "top_logprobs"))
    row = BestOfN(n_candidates=2, judge=jury).run(backend, PROMPT, 1, seed=0)[0]
    assert row["text"] == "good" and row["judge_score"] == pytest.approx(5.0)        # (2 + 8) / 2, "The" ignored
    assert expected_label_score(Completion("x", top_logprobs=[{"3": math.log(.9), "4": math.log(.1)}])) \
        == pytest.approx(3 * 0.9 + 4 * 0.1)
    assert math.isnan(expected_label_score(Completion("x", top_logprobs=[{"a": -1.0}])))


def test_logprob_mode_is_a_declared_requirement():
    assert BestOfN(judge_mode="logprobs").requires == {"chat", "top_logprobs"}
    assert BestOfN().requires == {"chat"}
    with pytest.raises(UsageError, match="top_logprobs"):
        check_capabilities(BestOfN(judge_mode="logprobs"), FakeBackend())
    with pytest.raises(UsageError, match="judge_mode='text'"):
        BestOfN(judge_mode="logprobs", judge=FakeBackend()).run(FakeBackend(responder=sampler), PROMPT, 1, 0)


def test_unreadable_scores_rank_last_and_all_unreadable_fails():
    backend = FakeBackend(responder=lambda r, i: ["first", "second"][i % 2])
    jury = FakeBackend(responder=lambda r, i: "2/9" if "second" in last_user(r) else "I like it")
    row = BestOfN(n_candidates=2, judge=jury).run(backend, PROMPT, 1, 0)[0]
    assert row["text"] == "second" and row["judge_score"] == 2.0
    with pytest.raises(QuadivError, match="no score"):
        BestOfN(n_candidates=2, judge=FakeBackend(responder=lambda r, i: "fine")).run(
            FakeBackend(responder=sampler), PROMPT, 1, 0)


@pytest.mark.parametrize("reply,score", [
    ("7", 7.0), ("Score: 8", 8.0), ("**Rating:** 6/9", 6.0), ("Score: 8/10", 7.2), ("I'd give it 4.", 4.0),
    ("5 out of 10", 4.5), ("12", 9.0), ("0", 1.0), ("Score: 3.5 because...", 3.5),
])
def test_parse_score(reply, score):
    assert parse_score(reply) == pytest.approx(score)


def test_parse_score_without_a_number_is_nan():
    assert math.isnan(parse_score("excellent answer"))


def test_fusion_shows_all_candidates_shuffled_and_returns_the_fusors_text():
    backend = FakeBackend(responder=lambda r, i: "fused" if "[Candidate" in last_user(r) else f"s{i}")
    rows = FusionOfN(n_candidates=5).run(backend, PROMPT, 2, seed=3)
    assert [r["text"] for r in rows] == ["fused", "fused"] and [r["judge_score"] for r in rows] == [None, None]
    fusor = [r for r in backend.requests if "[Candidate" in last_user(r)]
    assert len(fusor) == 2
    for req, row in zip(fusor, rows):
        text = last_user(req)
        assert "[Instruction]\n" + PROMPT in text and "Synthesise one final response" in text
        shown = re.findall(r"\[Candidate \d\]\n(\S+)", text)
        assert sorted(shown) == sorted(row["candidates"]) and len(shown) == 5
    orders = [re.findall(r"\[Candidate \d\]\n(\S+)", last_user(r)) for r in fusor]
    assert any(o != row["candidates"] for o, row in zip(orders, rows))        # shuffled against position bias


def test_self_moa_puts_references_in_the_system_message():
    backend = FakeBackend(responder=lambda r, i: "agg" if system_text(r) else f"s{i}")
    row = SelfMoA(n_candidates=3).run(backend, PROMPT, 1, seed=0)[0]
    (agg,) = [r for r in backend.requests if system_text(r)]
    assert "1. s0\n2. s1\n3. s2" in system_text(agg) and last_user(agg) == PROMPT
    assert row["text"] == "agg" and row["aggregation_rounds"] == 1 and row["candidates"] == ["s0", "s1", "s2"]


def test_self_moa_seq_slides_a_window_and_refeeds_the_running_synthesis():
    backend = FakeBackend(responder=lambda r, i: f"syn{i}" if system_text(r) else f"s{i}")
    rows = SelfMoA(n_candidates=7, window=3).run(backend, PROMPT, 2, seed=0)
    aggs = [system_text(r) for r in backend.requests if system_text(r)]
    assert len(aggs) == 2 * (1 + math.ceil((7 - 3) / 2))
    refs = [re.findall(r"^\d+\. (\S+)$", a, re.MULTILINE) for a in aggs]
    assert all(len(r) <= 3 for r in refs)
    assert refs[0] == ["s0", "s1", "s2"] and refs[2][0].startswith("syn") and refs[2][1:] == ["s3", "s4"]
    assert refs[4][1:] == ["s5", "s6"] and rows[0]["aggregation_rounds"] == 3
    agg_index = [i for i, r in enumerate(backend.requests) if system_text(r)]
    assert rows[0]["text"] == f"syn{agg_index[-2]}" and rows[1]["text"] == f"syn{agg_index[-1]}"


def test_registry_and_bad_arguments():
    assert (STRATEGIES["best-of-n"], STRATEGIES["fusion"], STRATEGIES["self-moa"]) == (BestOfN, FusionOfN, SelfMoA)
    with pytest.raises(UsageError):
        BestOfN(judge_mode="vote")
    with pytest.raises(UsageError):
        SelfMoA(window=1)
    with pytest.raises(UsageError):
        FusionOfN(n_candidates=0)


@pytest.mark.parametrize("cls", [FusionOfN, SelfMoA])
def test_max_tokens_caps_every_call_whose_text_is_written(cls):
    backend = FakeBackend(responder=lambda request, i: "fused" if "[Instruction]" in last_user(request)
                          or system_text(request) else f"cand-{i}")
    rows = cls(n_candidates=3, max_tokens=16).run(backend, PROMPT, 2, seed=0)
    assert len(rows) == 2 and {r.max_tokens for r in backend.requests} == {16}


def test_best_of_n_alone_has_a_judge_reply_cap():
    assert "judge_max_tokens" in [p.name for p in BestOfN.describe()]
    assert "judge_max_tokens" not in [p.name for p in FusionOfN.describe()] + [p.name for p in SelfMoA.describe()]
