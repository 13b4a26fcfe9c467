"""STEER: the processor's arithmetic on hand-computed logits, its contexts, and runs on the tiny LM."""
import math
from types import SimpleNamespace

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from tiny_lm import WORDS, build_tiny_lm

from quadiv.errors import UsageError
from quadiv.generate import (
    GenRequest,
    Steer,
    TransformersBackend,
    VLLMBackend,
    check_capabilities,
    get_strategy,
)
from quadiv.generate.strategies._steer import SteerLogitsProcessor

LN2 = math.log(2)


class TableLM(torch.nn.Module):
    """A fake causal LM: next-token probabilities depend on the current token only (rows of ``table``;
    ids past the table, such as padding, read its last row)."""

    def __init__(self, table):
        super().__init__()
        self.logits = torch.log(torch.tensor(table, dtype=torch.float32)) + 5.0  # unnormalised on purpose
        self.device = torch.device("cpu")
        self.calls = []

    def forward(self, input_ids, attention_mask=None, position_ids=None, cache=None, use_cache=None):
        self.calls.append({"ids": input_ids.tolist(), "mask": attention_mask.tolist(),
                           "positions": position_ids.tolist(), "cache": cache})
        return SimpleNamespace(logits=self.logits[input_ids.clamp(max=2)], cache=len(self.calls))


EXPERT_SCORES = [[0.5, 0.25, 0.25]]
BASE = [[0.25, 0.5, 0.25]] * 3
NEG = [[0.125, 0.125, 0.75]] * 2 + [[0.5, 0.25, 0.25]]


def test_score_formula_on_hand_computed_logits():
    # s = 1.2 ln pE - 0.2 ln pB - 0.6 ln pN, in units of ln 2 where the probabilities are powers of two
    expected = [1.2 * -1 - 0.2 * -2 - 0.6 * -3, 1.2 * -2 - 0.2 * -1 - 0.6 * -3]
    expected = [e * LN2 for e in expected] + [1.2 * -2 * LN2 - 0.2 * -2 * LN2 - 0.6 * math.log(0.75)]
    proc = SteerLogitsProcessor(TableLM(NEG), TableLM(BASE), [[0]], gamma=0.2, eta=0.6)
    scores = torch.log(torch.tensor(EXPERT_SCORES)) - 2.0
    out = proc(torch.tensor([[1, 1]]), scores)
    assert out[0].tolist() == pytest.approx([LN2, -0.4 * LN2, -2 * LN2 - 0.6 * math.log(0.75)], abs=1e-5)
    assert out[0].tolist() == pytest.approx(expected, abs=1e-5)
    # next step: the negative branch reads the generated token 2, whose row is (0.5, 0.25, 0.25)
    out = proc(torch.tensor([[1, 1, 2]]), scores)
    assert out[0].tolist() == pytest.approx([(-1.2 + 0.4 + 0.6) * LN2, (-2.4 + 0.2 + 1.2) * LN2,
                                             (-2.4 + 0.4 + 1.2) * LN2], abs=1e-5)


def test_terms_switch_off():
    scores = torch.log(torch.tensor(EXPERT_SCORES))
    only_neg = SteerLogitsProcessor(TableLM(NEG), None, [[0]], gamma=0.0, eta=1.0)(torch.tensor([[1]]), scores)
    assert only_neg[0].tolist() == pytest.approx([2 * LN2, LN2, -2 * LN2 - math.log(0.75)], abs=1e-5)
    plain = SteerLogitsProcessor(TableLM(NEG), TableLM(BASE), None, gamma=0.0, eta=0.6)(torch.tensor([[1]]), scores)
    assert plain[0].tolist() == pytest.approx(torch.log_softmax(scores, -1)[0].tolist(), abs=1e-6)


def test_contexts_are_padded_cached_and_extended():
    expert, base = TableLM(NEG), TableLM(BASE)
    proc = SteerLogitsProcessor(expert, base, [[1], [0, 1, 2]], gamma=0.5, eta=0.5, pad_token_id=9)
    scores = torch.zeros((2, 3))
    proc(torch.tensor([[2, 0], [2, 0]]), scores)
    proc(torch.tensor([[2, 0, 1], [2, 0, 2]]), scores)
    assert base.calls[0]["ids"] == [[2, 0], [2, 0]] and base.calls[0]["positions"] == [[0, 1], [0, 1]]
    assert base.calls[1]["ids"] == [[1], [2]] and base.calls[1]["cache"] == 1
    first, second = expert.calls
    assert first["ids"] == [[9, 9, 1], [0, 1, 2]] and first["mask"] == [[0, 0, 1], [1, 1, 1]]
    assert first["positions"] == [[0, 0, 0], [0, 1, 2]]
    assert second["ids"] == [[1], [2]] and second["positions"] == [[1], [3]]
    assert second["mask"] == [[0, 0, 1, 1], [1, 1, 1, 1]] and second["cache"] == 1
    with pytest.raises(UsageError, match="one token per step"):
        proc(torch.tensor([[2, 0, 1, 1, 1], [2, 0, 2, 1, 1]]), scores)
    with pytest.raises(UsageError, match="one negative context per row"):
        SteerLogitsProcessor(expert, None, [[1]], gamma=0.0, eta=0.5)(torch.tensor([[1], [1]]), scores)


@pytest.fixture(scope="module")
def models():
    expert, tok = build_tiny_lm(seed=0, eos_scale=0.2)
    base, _ = build_tiny_lm(seed=1, eos_scale=0.2)
    return TransformersBackend(expert, tok), base


def uncached_greedy(expert, base, prompt, negative, steps, gamma, eta, eos):
    """STEER greedy decoding the reference way: every context re-run in full at every step."""
    generated = []
    with torch.no_grad():
        for _ in range(steps):
            def logp(model, ids):
                return torch.log_softmax(model(torch.tensor([ids])).logits[0, -1].float(), -1)
            s = ((1 + gamma) * logp(expert, prompt + generated) - gamma * logp(base, prompt + generated)
                 - eta * logp(expert, negative + generated))
            token = int(s.argmax())
            if token == eos:
                break
            generated.append(token)
    return generated


def test_batched_cached_greedy_equals_uncached_reference(models):
    backend, base = models
    tok = backend.tokenizer
    req = GenRequest(messages=[{"role": "user", "content": "the sky"}], n=2, temperature=0, max_tokens=6)
    negatives = [tok("the galaxy shines").input_ids, tok("a quasar and a comet orbit the sun").input_ids]
    proc = SteerLogitsProcessor(backend.lm, base, negatives, gamma=0.3, eta=0.7, pad_token_id=tok.pad_token_id)
    req.extra["logits_processors"] = [proc]
    texts = [c.text for c in backend.generate([req])[0]]
    prompt = backend.encode(req)
    want = [tok.decode(uncached_greedy(backend.lm, base, prompt, n, 6, 0.3, 0.7, tok.eos_token_id),
                       skip_special_tokens=True) for n in negatives]
    assert texts == want
    assert texts[0] != texts[1]  # the negative context changes the output


def test_strategy_end_to_end(models):
    backend, base = models
    examples = ["the galaxy shines", "a galaxy and a quasar", "the galaxy is dark"]
    steer = get_strategy("steer", base=base, examples=examples, num_negatives=2, max_tokens=6)
    check_capabilities(steer, backend)
    rows = steer.run(backend, "the sky", 3, seed=0)
    assert [r["pool_size"] for r in rows] == [3, 4, 5] and {r["negatives"] for r in rows} == {2}
    assert all(w in WORDS for r in rows for w in r["text"].split())
    again = Steer(base=base, examples=examples, num_negatives=2, max_tokens=6).run(backend, "the sky", 3, seed=0)
    assert [r["text"] for r in again] == [r["text"] for r in rows]
    assert steer.params()["base"] == "LlamaForCausalLM" and steer.params()["gamma"] == 0.2


def test_no_guidance_is_plain_top_k_sampling(models):
    backend, _ = models
    rows = Steer(gamma=0.0, eta=0.0, max_tokens=6, batch_size=3).run(backend, "the sky", 3, seed=4)
    plain = backend.generate([GenRequest(messages=[{"role": "user", "content": "the sky"}], n=3, top_k=10,
                                         max_tokens=6, seed=4)])[0]
    assert [r["text"] for r in rows] == [c.text for c in plain]


def test_empty_pool_drops_the_negative_term(models):
    backend, base = models
    rows = Steer(base=base, max_tokens=4).run(backend, "a cat", 2, seed=0)
    assert [r["negatives"] for r in rows] == [0, 1] and [r["pool_size"] for r in rows] == [0, 1]


def test_refusals():
    with pytest.raises(UsageError, match="needs a base model"):
        Steer(gamma=0.2)
    with pytest.raises(UsageError, match="logits_hook, multi_model_step"):
        check_capabilities(Steer(gamma=0.0), VLLMBackend("some/model"))
