"""Diverse Beam Search against the paper's definition, transformers' beam search, and on the tiny LM."""
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from tiny_lm import build_tiny_lm

from quadiv.errors import UsageError
from quadiv.generate._base import check_capabilities, get_strategy
from quadiv.generate._diverse_beam import diverse_beam_generate, diverse_beam_search
from quadiv.generate._transformers import TransformersBackend
from quadiv.generate._vllm import VLLMBackend


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
    """Vijayakumar et al. 2018, eq. 3-5 with Hamming diversity, written out literally."""
    per = beams // groups
    group_beams = [[((start,), 0.0)] for _ in range(groups)]
    for _ in range(steps):
        chosen = []
        for g in range(groups):
            cands = []
            for seq, logp in group_beams[g]:
                for v in range(table.shape[1]):
                    new = logp + float(table[seq[-1], v])
                    cands.append((new - penalty * chosen.count(v), seq + (v,), new))
            cands.sort(key=lambda c: -c[0])
            group_beams[g] = [(seq, new) for _, seq, new in cands[:per]]
            chosen += [seq[-1] for seq, _ in group_beams[g]]
    return {(g, seq[1:], round(logp, 5)) for g in range(groups) for seq, logp in group_beams[g]}


@pytest.mark.parametrize("beams,groups,penalty", [(6, 3, 0.7), (4, 4, 2.0), (4, 2, 0.3), (3, 1, 5.0)])
def test_matches_the_paper_definition(beams, groups, penalty):
    table = markov_table(seed=beams + groups)
    assert run_table(table, beams, groups, penalty, 5) == paper_dbs(table, beams, groups, penalty, 5)


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
