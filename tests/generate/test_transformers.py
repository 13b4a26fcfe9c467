"""The transformers backend on a tiny random Llama built in memory."""
import sys

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from tiny_lm import WORDS, build_tiny_lm, save_tiny_lm

from quadiv.errors import MissingDependencyError, UsageError
from quadiv.generate import GenerationCancelled, GenRequest, TransformersBackend
from quadiv.generate.backends._transformers import CAPABILITIES, import_torch


@pytest.fixture(scope="module")
def backend():
    model, tok = build_tiny_lm(seed=0, eos_scale=0.2)
    return TransformersBackend(model, tok, batch_size=4)


def chat(text, **kw):
    return GenRequest(messages=[{"role": "user", "content": text}], **kw)


def test_capabilities_cover_decoding_methods():
    assert {"chat", "logits_hook", "multi_model_step", "step_decoder", "beam_search", "label_logprobs"} <= CAPABILITIES


def test_n_completions_per_request_with_usage(backend):
    out = backend.generate([chat("the cat", n=3, max_tokens=5, seed=1), GenRequest(prompt="a dog", n=2, max_tokens=4)])
    assert [len(r) for r in out] == [3, 2]
    first = out[0][0]
    assert first.extras["prompt_tokens"] == len(backend.encode(chat("the cat")))
    assert first.extras["completion_tokens"] == 5 and first.finish_reason == "length"
    assert all(w in WORDS for w in first.text.split())


def test_seed_reproducible_and_independent_of_batch(backend):
    req = chat("the sun", n=3, max_tokens=6, seed=7)
    alone = [c.text for c in backend.generate([req])[0]]
    mixed = backend.generate([GenRequest(prompt="the moon is", n=5, max_tokens=3), req])[1]
    assert [c.text for c in mixed] == alone
    other = [c.text for c in backend.generate([chat("the sun", n=3, max_tokens=6, seed=8)])[0]]
    assert other != alone


def test_greedy_batched_with_padding_equals_alone(backend):
    reqs = [GenRequest(prompt=p, max_tokens=6, temperature=0) for p in ("a", "the cat sits on the mat", "red sky")]
    batched = [r[0].text for r in backend.generate(reqs)]
    assert batched == [backend.generate([r])[0][0].text for r in reqs]


def test_top_k_one_and_min_p_one_sample_the_greedy_path(backend):
    greedy = backend.generate([chat("a bird", max_tokens=6, temperature=0)])[0][0].text
    top1 = backend.generate([chat("a bird", n=2, max_tokens=6, temperature=1.5, top_k=1, seed=3)])[0]
    minp = backend.generate([chat("a bird", n=2, max_tokens=6, temperature=1.5, min_p=1.0, seed=3)])[0]
    assert {c.text for c in top1} == {c.text for c in minp} == {greedy}


def test_greedy_logprobs_are_the_raw_argmax(backend):
    c = backend.generate([chat("the star", max_tokens=5, temperature=0, logprobs=3)])[0][0]
    assert len(c.token_logprobs) == len(c.top_logprobs) == 5
    for lp, top in zip(c.token_logprobs, c.top_logprobs):
        assert len(top) == 3 and lp == pytest.approx(max(top.values()), abs=1e-6)


def test_score_is_teacher_forced_log_softmax(backend):
    req = GenRequest(prompt="the cat")
    got = backend.score([req], ["sits on"])[0]
    ids = backend.tokenizer("the cat sits on").input_ids
    with torch.no_grad():
        logp = torch.log_softmax(backend.lm(torch.tensor([ids])).logits[0].float(), -1)
    assert got == pytest.approx([float(logp[1, ids[2]]), float(logp[2, ids[3]])], abs=1e-5)


def test_label_logprobs_over_the_vocabulary_sum_to_one(backend):
    labels = list(backend.tokenizer.get_vocab())
    probs = backend.label_logprobs(chat("a fish"), labels)
    assert sum(torch.tensor(list(probs.values())).exp()) == pytest.approx(1.0, abs=1e-4)


def test_stop_string_cuts_the_text(backend):
    base = backend.generate([GenRequest(prompt="the dog", max_tokens=8, temperature=0)])[0][0].text
    word = base.split()[3]
    stopped = backend.generate([GenRequest(prompt="the dog", max_tokens=8, temperature=0, stop=[word])])[0][0]
    assert stopped.text == base[:base.find(word)] and stopped.finish_reason == "stop"


def test_logits_processor_hook(backend):
    target = backend.tokenizer.convert_tokens_to_ids("comet")

    def force(input_ids, scores):
        forced = torch.full_like(scores, -float("inf"))
        forced[:, target] = 0.0
        return forced

    c = backend.generate([chat("x", n=2, max_tokens=3, seed=0, extra={"logits_processors": [force]})])[0]
    assert [x.text for x in c] == ["comet comet comet"] * 2


def test_load_from_directory_matches_preloaded(tmp_path, backend):
    path = save_tiny_lm(tmp_path / "lm", seed=0, eos_scale=0.2)
    loaded = TransformersBackend(path, device="cpu", dtype="float32")
    req = chat("the cat", max_tokens=6, temperature=0)
    assert loaded.generate([req])[0][0].text == backend.generate([req])[0][0].text
    assert loaded.model == str(path)


def test_errors(tmp_path, backend):
    with pytest.raises(UsageError, match="exactly one"):
        backend.encode(GenRequest(prompt="a", messages=[{"role": "user", "content": "b"}]))
    with pytest.raises(UsageError, match="cannot load"):
        _ = TransformersBackend(tmp_path / "missing").lm
    with pytest.raises(UsageError, match="tokenizer"):
        TransformersBackend(backend.lm)
    model, tok = build_tiny_lm(seed=0)
    tok.chat_template = None
    with pytest.raises(UsageError, match="no chat template"):
        TransformersBackend(model, tok).generate([chat("a")])


def test_missing_torch_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(MissingDependencyError, match=r"quadiv\[embed\]"):
        import_torch()


def test_cancel_ends_a_call_in_flight_and_later_calls_run(backend):
    steps = []

    def cancel_at_third_step(input_ids, scores):
        steps.append(input_ids.shape[1])
        if len(steps) == 3:
            backend.cancel()  # as the runner does from the main thread after an error or Ctrl-C
        return scores

    with pytest.raises(GenerationCancelled, match="cancelled"):
        backend.generate([chat("the cat", max_tokens=50, seed=1, extra={"logits_processors": [cancel_at_third_step]})])
    assert len(steps) <= 4  # stopped at the next token, not after 50
    (after,) = backend.generate([chat("the cat", max_tokens=5, seed=1)])
    assert after[0].extras["completion_tokens"] == 5
