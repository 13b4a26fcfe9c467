"""rm:, classifier:, perplexity:, ifd: and fasttext: on tiny random models loaded from local directories."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from quadiv.errors import InputError
from quadiv.quality import Item, get_scorer, score

TEXTS = ["the cat sits on the hill", "a big dog runs", "the sun shines and the moon sleeps on the sea",
         "red", "this bird flies from the old tree to the river"]
ASKS = ["the sky is blue", "is the sea cold", "a star", "the lion eats", "this tree grows"]


def one_by_one(scorer, items):
    return np.array([scorer.score([it]).values[0] for it in items])


@pytest.mark.parametrize("side", ["right", "left"])
def test_reward_model_batch_equals_one_by_one(reward_dirs, side):
    rm = get_scorer(f"rm:{reward_dirs[side]}")
    items = [Item(t, a) for t, a in zip(TEXTS, ASKS)]
    batch = rm.score(items).values
    np.testing.assert_allclose(batch, one_by_one(rm, items), atol=1e-5)
    assert np.isfinite(batch).all() and np.ptp(batch) > 0
    np.testing.assert_allclose(rm.score(items[::-1]).values, batch[::-1], atol=1e-5)  # order-free


def test_reward_model_applies_the_chat_template_once(reward_dirs):
    import transformers

    rm = get_scorer(f"rm:{reward_dirs['right']}")
    tok = transformers.AutoTokenizer.from_pretrained(reward_dirs["right"])
    ids = rm._ids(Item("a big dog runs", "is the sea cold"))
    expected = tok.apply_chat_template([{"role": "user", "content": "is the sea cold"},
                                        {"role": "assistant", "content": "a big dog runs"}], tokenize=False)
    assert ids == tok(expected, add_special_tokens=False).input_ids
    assert ids.count(tok.convert_tokens_to_ids("<|user|>")) == 1


def test_classifier_regression_clamps_and_rounds_and_binary_gives_p_positive(classifier_dirs):
    reg = get_scorer(f"classifier:{classifier_dirs['regression']}")
    out = reg.score([Item(t) for t in TEXTS])
    np.testing.assert_array_equal(out.columns["classifier_int_score"], np.round(np.clip(out.values, 0, 5)))
    np.testing.assert_array_equal(out.columns["classifier_keep"], out.values >= 2.5)
    np.testing.assert_allclose(out.values, one_by_one(reg, [Item(t) for t in TEXTS]), atol=1e-5)
    binary = get_scorer(f"classifier:{classifier_dirs['binary']}", positive_label="high")
    out = binary.score([Item(t) for t in TEXTS])
    assert ((out.values > 0) & (out.values < 1)).all()
    assert set(out.columns["classifier_label"]) <= {"low", "high"}
    np.testing.assert_array_equal(out.columns["classifier_keep"], out.values >= 0.5)


def test_perplexity_at_initialisation_is_near_the_vocabulary_size(causal_lm_dir):
    import transformers

    vocab = len(transformers.AutoTokenizer.from_pretrained(causal_lm_dir))
    ppl = get_scorer(f"perplexity:{causal_lm_dir}")
    items = [Item(t, a) for t, a in zip(TEXTS, ASKS)]
    out = ppl.score(items)
    assert np.all(np.abs(np.log(out.values) - math.log(vocab)) < 0.1), (out.values, vocab)  # within ~10%
    np.testing.assert_allclose(out.values, one_by_one(ppl, items), rtol=1e-5)
    np.testing.assert_allclose(out.columns["perplexity_nll"], np.log(out.values))


def test_perplexity_scores_only_the_response_tokens(causal_lm_dir):
    import torch
    import transformers

    ppl = get_scorer(f"perplexity:{causal_lm_dir}")
    model = transformers.AutoModelForCausalLM.from_pretrained(causal_lm_dir).eval()
    tok = transformers.AutoTokenizer.from_pretrained(causal_lm_dir)
    text, ask = "a big dog runs", "is the sea cold"
    full = tok.apply_chat_template([{"role": "user", "content": ask}, {"role": "assistant", "content": text}],
                                   tokenize=False)
    ids = tok(full, add_special_tokens=False).input_ids
    prefix = len(tok(full[:full.rfind(text)], add_special_tokens=False).input_ids)
    with torch.no_grad():
        logp = torch.log_softmax(model(torch.tensor([ids])).logits[0, :-1], -1)
    nll = -np.array([logp[j - 1, ids[j]].item() for j in range(prefix, len(ids))])
    assert ppl.score([Item(text, ask)]).columns["perplexity_nll"][0] == pytest.approx(nll.mean(), rel=1e-5)


def test_ifd_at_initialisation_is_near_one(causal_lm_dir):
    ifd = get_scorer(f"ifd:{causal_lm_dir}")
    out = ifd.score([Item(t, a) for t, a in zip(TEXTS, ASKS)])
    assert np.all(np.abs(out.values - 1) < 0.05), out.values
    np.testing.assert_allclose(out.values, out.columns["ifd_conditioned_nll"] / out.columns["ifd_direct_nll"])
    assert ifd.needs_instruction and np.isnan(ifd.score([Item("a big dog runs")]).values[0])


def test_model_scores_go_through_the_cache(causal_lm_dir, tmp_path):
    from quadiv.quality import ScoreCache

    ppl = get_scorer(f"perplexity:{causal_lm_dir}")
    cache = ScoreCache(ppl.name, tmp_path / "s.sqlite")
    first = score([Item(t) for t in TEXTS], ppl, cache=cache)
    assert len(cache) == len(TEXTS)
    np.testing.assert_allclose(score([Item(t) for t in TEXTS], ppl, cache=cache).values, first.values)


def test_fasttext_is_p_of_the_hq_label(tmp_path, alpaca_rows):
    import fasttext

    good = [r["output"] for r in alpaca_rows if r["quality"] > 0.8][:150]
    bad = [r["output"] for r in alpaca_rows if r["quality"] < 0.05][:150]
    train = tmp_path / "train.txt"
    train.write_text("".join(f"__label__{lab} {' '.join(t.split())}\n" for lab, ts in (("hq", good), ("cc", bad))
                             for t in ts))
    model = fasttext.train_supervised(str(train), lr=1.0, epoch=25, wordNgrams=2, verbose=0)
    path = tmp_path / "m.bin"
    model.save_model(str(path))
    scorer = get_scorer(f"fasttext:{path}")
    texts = good[:5] + bad[:5] + ["two\nlines"]
    got = scorer.score([Item(t) for t in texts]).values
    labels, probs = model.predict([" ".join(t.strip().splitlines()) for t in texts], k=-1)
    np.testing.assert_allclose(got, [dict(zip(ls, ps))["__label__hq"] for ls, ps in zip(labels, probs)])
    assert got[:5].mean() > got[5:10].mean()
    with pytest.raises(InputError, match="no label '__label__x'"):
        get_scorer(f"fasttext:{path}", label="__label__x")


def test_bad_model_paths_are_input_errors(tmp_path, causal_lm_dir, reward_dirs):
    with pytest.raises(InputError, match="does not exist"):
        get_scorer(f"rm:{tmp_path / 'nope'}")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no config.json"):
        get_scorer(f"perplexity:{tmp_path / 'empty'}")
    with pytest.raises(InputError, match="not a transformers sequence-classification model"):
        get_scorer(f"rm:{causal_lm_dir}")
    with pytest.raises(InputError, match="not a transformers causal language model"):
        get_scorer(f"ifd:{reward_dirs['right']}")
    (tmp_path / "junk.bin").write_bytes(b"not a model")
    with pytest.raises(InputError, match="not a fastText model"):
        get_scorer(f"fasttext:{tmp_path / 'junk.bin'}")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text(json.dumps({"architectures": ["LlamaForCausalLM"], "model_type": "llama"}))
    with pytest.raises(InputError, match="cannot load"):
        get_scorer(f"perplexity:{broken}").score([Item("the cat")])
