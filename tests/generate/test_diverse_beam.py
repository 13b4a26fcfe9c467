"""Diverse Beam Search against the paper's definition, transformers' beam search, and on the tiny LM."""
import math

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from tiny_lm import build_tiny_lm

from quadiv.errors import UsageError
from quadiv.generate import TransformersBackend, VLLMBackend, check_capabilities, get_strategy
from quadiv.generate.strategies._diverse_beam import diverse_beam_generate, diverse_beam_search


def markov_table(vocab=7, seed=0):
    """log p(next | current) of a random first-order Markov LM."""
    g = torch.Generator().manual_seed(seed)
    return torch.log_softmax(2.0 * torch.randn((vocab, vocab), generator=g), -1)


def run_table(table, beams, groups, penalty, steps, start=0):
    """Our DBS on the Markov table, fixed length (no end token), raw log-prob scores."""
    def step(seqs, parents):
        return table[seqs[:, -1]]

    ids = torch.full((beams, 1), start)
    out = diverse_beam_search(step, ids, lambda s: torch.full((s.shape[0],), s.shape[1] >= 1 + steps),
                              num_beams=beams, num_groups=groups, diversity_penalty=penalty,
                              max_length=1 + steps, length_penalty=0.0)
    return {(int(g), tuple(s[1:].tolist()), round(float(v), 5))
            for s, v, g in zip(out.sequences[0], out.sequences_scores[0], out.groups[0])}


def paper_dbs(table, beams, groups, penalty, steps, start=0):
    """Vijayakumar et al. 2018, Algorithm 1 with Hamming diversity, written out literally: line 5 adds the
    penalty to Θ, line 6 keeps the B' best by that Θ, which the next step extends."""
    per = beams // groups
    group_beams = [[((start,), 0.0)] for _ in range(groups)]
    for _ in range(steps):
        chosen = []
        for g in range(groups):
            cands = []
            for seq, theta in group_beams[g]:
                for v in range(table.shape[1]):
                    cands.append((theta + float(table[seq[-1], v]) - penalty * chosen.count(v), seq + (v,)))
            cands.sort(key=lambda c: -c[0])
            group_beams[g] = [(seq, theta) for theta, seq in cands[:per]]
            chosen += [seq[-1] for seq, _ in group_beams[g]]
    return {(g, seq[1:], round(theta, 5)) for g in range(groups) for seq, theta in group_beams[g]}


@pytest.mark.parametrize("beams,groups,penalty", [(6, 3, 0.7), (4, 4, 2.0), (4, 2, 0.3), (3, 1, 5.0)])
def test_matches_the_paper_definition(beams, groups, penalty):
    table = markov_table(seed=beams + groups)
    assert run_table(table, beams, groups, penalty, 5) == paper_dbs(table, beams, groups, penalty, 5)


S, A, B, C, D, E, F, G, H, END = range(10)


def worked_table():
    """p(next | last token) of the hand-worked example; every other next token has probability 1e-9."""
    probs = torch.full((10, 10), 1e-9)
    probs[S, [A, B, C, D]] = torch.tensor([0.4, 0.3, 0.2, 0.1])
    probs[A, [E, F]] = probs[B, [E, F]] = torch.tensor([0.9, 0.1])
    probs[C, [G, H]] = torch.tensor([0.55, 0.45])
    probs[D, END] = probs[E, END] = probs[F, END] = probs[G, END] = probs[H, END] = 1.0
    return probs.log()


def test_the_penalty_accumulates_in_the_beam_score_as_algorithm_1_line_5_says():
    """B = 4, G = 2, λ = 0.5, two steps. Step 1: group 1 keeps a (.4), b (.3); group 2 scores a .4 -> log .4 - 0.5
    = -1.416, b -1.704, c log .2 = -1.609, d -2.303 and keeps a (Θ = -1.416) and c (Θ = -1.609). Step 2: group 1
    keeps ae, be, so e counts 2. Group 2: ae = -1.416 + log .9 - 2·0.5 = -2.521, cg = -1.609 + log .55 = -2.207,
    ch = -1.609 + log .45 = -2.408: it keeps cg, ch. Carrying the unpenalised log .4 for a instead, ae would be
    -2.021 and beat ch: group 2 would keep ae, cg (the earlier behaviour)."""
    table = worked_table()
    hyps = run_table(table, beams=4, groups=2, penalty=0.5, steps=2)
    assert {(g, s) for g, s, _ in hyps} == {(0, (A, E)), (0, (B, E)), (1, (C, G)), (1, (C, H))}
    scores = {s: v for _, s, v in hyps}
    assert scores[(C, G)] == pytest.approx(math.log(0.2 * 0.55), abs=1e-5)
    assert scores[(C, H)] == pytest.approx(math.log(0.2 * 0.45), abs=1e-5)
    assert hyps == paper_dbs(table, 4, 2, 0.5, 2)


def test_log_probs_are_unpenalised_and_sequence_scores_penalised():
    """B = 2, G = 2, λ = 0.2, one step: group 2's best is a again (log .4 - 0.2 = -1.116 > log .3 = -1.204)."""
    ids = torch.full((2, 1), S)
    out = diverse_beam_search(lambda seqs, parents: worked_table()[seqs[:, -1]], ids,
                              lambda s: torch.full((s.shape[0],), s.shape[1] >= 2), num_beams=2, num_groups=2,
                              diversity_penalty=0.2, max_length=2, length_penalty=0.0)
    assert out.sequences[0, :, 1].tolist() == [A, A] and out.groups[0].tolist() == [0, 1]
    assert out.log_probs[0].tolist() == pytest.approx([math.log(0.4)] * 2, abs=1e-6)
    assert out.sequences_scores[0].tolist() == pytest.approx([math.log(0.4), math.log(0.4) - 0.2], abs=1e-6)


def test_an_end_token_an_earlier_group_chose_counts_in_the_penalty():
    """B = 2, G = 2, λ = 1; p(END | S) = .5, p(a | S) = .3, p(b | S) = .2, then END. Step 1: group 1's best is END
    (it ends: a hypothesis, score log .5); a refills its running beam. END is what group 1 chose at step 1
    (Y^1_[1]), so group 2 scores END log .5 - 1 = -1.693 < a log .3 = -1.204, and at step 2 a END, penalised
    for group 1's a END: log .3 - 1. Counting only group 1's running beam a (transformers' group beam search),
    group 2 would score a -2.204, END -0.693, and return END a second time."""
    probs = torch.full((10, 10), 1e-9)
    probs[S, [END, A, B]] = torch.tensor([0.5, 0.3, 0.2])
    probs[A, END] = probs[B, END] = 1.0
    table = probs.log()
    out = diverse_beam_search(lambda seqs, parents: table[seqs[:, -1]], torch.full((2, 1), S),
                              lambda s: (s[:, -1] == END) | (s.shape[1] >= 3), num_beams=2, num_groups=2,
                              diversity_penalty=1.0, max_length=3, length_penalty=0.0, n_eos=1)
    texts = {g: tuple(seq[1:1 + n]) for g, seq, n in zip(out.groups[0].tolist(), out.sequences[0].tolist(),
                                                        out.lengths[0].tolist())}
    assert texts == {0: (END,), 1: (A, END)}
    assert out.sequences_scores[0].tolist() == pytest.approx([math.log(0.5), math.log(0.3) - 1], abs=1e-5)


def test_zero_penalty_repeats_one_beam_search_per_group():
    hyps = run_table(markov_table(), beams=6, groups=3, penalty=0.0, steps=4)
    per_group = [{(s, v) for g, s, v in hyps if g == k} for k in range(3)]
    assert per_group[0] == per_group[1] == per_group[2] and len(per_group[0]) == 2


def test_large_penalty_forces_distinct_first_tokens():
    table = markov_table(seed=3)
    for groups, penalty in ((4, 0.0), (4, 100.0)):
        firsts = {s[0] for _, s, _ in run_table(table, 4, groups, penalty, 3)}
        assert len(firsts) == (1 if penalty == 0 else 4)


@pytest.fixture(scope="module")
def lm():
    return build_tiny_lm(seed=0)


@pytest.mark.parametrize("length_penalty,early_stopping", [(1.0, False), (0.0, True), (2.0, "never")])
def test_one_group_equals_transformers_beam_search(lm, length_penalty, early_stopping):
    model, tok = lm
    batch = tok(["the cat sits on", "<|user|> the cat sits </s> <|assistant|>"], padding=True, return_tensors="pt")
    kw = {"num_beams": 4, "num_return_sequences": 4, "max_new_tokens": 7, "do_sample": False,
          "length_penalty": length_penalty, "early_stopping": early_stopping, "return_dict_in_generate": True,
          "output_scores": True}
    ref = model.generate(**batch, **kw)
    ours = model.generate(**batch, custom_generate=diverse_beam_generate, **kw)
    assert torch.allclose(ours.sequences_scores, ref.sequences_scores, atol=1e-5)
    width = batch.input_ids.shape[1]
    for j, n in enumerate(ours.lengths.tolist()):
        assert ours.sequences[j, :width + n].tolist() == ref.sequences[j, :width + n].tolist()
    if length_penalty == 0:
        assert ours.lengths.min() < 7  # finished hypotheses that end with the end token are returned


def test_penalty_spreads_groups_on_the_model(lm):
    model, tok = lm
    ids = tok(["the cat sits on"], return_tensors="pt").input_ids
    kw = {"num_beams": 4, "num_beam_groups": 4, "num_return_sequences": 4, "max_new_tokens": 4,
          "do_sample": False, "custom_generate": diverse_beam_generate, "return_dict_in_generate": True}
    same = model.generate(ids, diversity_penalty=0.0, **kw)
    spread = model.generate(ids, diversity_penalty=50.0, **kw)
    assert len({tuple(s.tolist()) for s in same.sequences}) == 1
    assert len({int(s[ids.shape[1]]) for s in spread.sequences}) == 4
    assert sorted(spread.groups.tolist()) == [0, 1, 2, 3]


def test_strategy_rows(lm):
    backend = TransformersBackend(*lm)
    strategy = get_strategy("diverse-beam", diversity_penalty=2.0, max_tokens=5)
    check_capabilities(strategy, backend)
    rows = strategy.run(backend, "the sun", 3, seed=0)
    assert len(rows) == 3 and sorted(r["group"] for r in rows) == [0, 1, 2]
    scores = [r["sequence_score"] for r in rows]
    assert scores == sorted(scores, reverse=True) and all(1 <= r["num_tokens"] <= 5 for r in rows)
    assert len({r["text"] for r in rows}) == 3


def test_refusals(lm):
    with pytest.raises(UsageError, match="divisible"):
        get_strategy("diverse-beam", num_beams=4, num_groups=3)
    with pytest.raises(UsageError, match="at most num_beams"):
        get_strategy("diverse-beam", num_beams=2).run(TransformersBackend(*lm), "a", 3, seed=0)
    with pytest.raises(UsageError, match="step_decoder"):
        check_capabilities(get_strategy("diverse-beam"), VLLMBackend("some/model"))
